package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumer.DLT_ATTEMPTS;
import static io.giftkit.mq.GiftkitConsumer.DLT_EXCEPTION;
import static io.giftkit.mq.GiftkitConsumer.DLT_MESSAGE;
import static io.giftkit.mq.GiftkitConsumer.DLT_OFFSET;
import static io.giftkit.mq.GiftkitConsumer.DLT_PARTITION;
import static io.giftkit.mq.GiftkitConsumer.DLT_SITE;
import static io.giftkit.mq.GiftkitConsumer.DLT_TIMESTAMP;
import static io.giftkit.mq.GiftkitConsumer.DLT_TOPIC;
import static io.giftkit.mq.GiftkitConsumer.DLT_TRUNCATED;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a record to its dead-letter topic {@code <topic><suffix>} and waits for the broker's
 * acknowledgement: the caller commits past the record only when {@link #publish} returned. The
 * record's bytes go as they came, with headers naming its origin and failure (earlier dead-letter
 * headers replaced, never appended; the message truncated to 1,000 characters). A value too large for
 * the topic is truncated to {@code maxValueBytes} (a {@value GiftkitConsumer#DLT_TRUNCATED} header gives
 * the original size), or left out if still too large.
 *
 * <p>With {@link RetryTopics}, a record from a retry topic goes to the dead-letter topic of its
 * original topic, and the headers name the original topic, partition, offset and timestamp (from its
 * retry headers, which are left out). The same producer publishes the retry records ({@link #send}).
 *
 * <p>Thread-safe (one producer shared by the consumer's poll loops); {@link #publish} blocks for up to
 * the dead-letter timeout plus 1 s.
 */
final class DeadLetterPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);
  private static final int MAX_MESSAGE = 1_000;

  private final String name;
  private final Producer<byte[], byte[]> producer;
  private volatile Runnable afterClose = () -> { };
  private final String suffix;
  private final long timeoutMillis;
  private final int maxValueBytes;
  private final RetryTopicRouter router; // null without retry topics

  DeadLetterPublisher(String name, Producer<byte[], byte[]> producer, String suffix, Duration timeout,
      int maxValueBytes) {
    this(name, producer, suffix, timeout, maxValueBytes, null);
  }

  /** @param router resolves the original topic of records from retry topics; null without retry topics */
  DeadLetterPublisher(String name, Producer<byte[], byte[]> producer, String suffix, Duration timeout,
      int maxValueBytes, RetryTopicRouter router) {
    this.router = router;
    this.name = name;
    this.producer = producer;
    this.suffix = suffix;
    this.timeoutMillis = timeout.toMillis();
    this.maxValueBytes = maxValueBytes;
  }

  /** @return the dead-letter topic of {@code raw}'s (original) topic */
  String topicOf(ConsumerRecord<byte[], byte[]> raw) {
    return origin(raw).topic() + suffix;
  }

  private RetryTopicRouter.Origin origin(ConsumerRecord<byte[], byte[]> raw) {
    return router == null ? RetryTopicRouter.Origin.of(raw) : router.origin(raw);
  }

  /**
   * Publishes {@code raw} to its dead-letter topic and waits for the acknowledgement.
   *
   * @param error why it is dead-lettered
   * @param attempts how many times it was tried
   * @throws Exception if it was not acknowledged (the record must not be committed past)
   */
  void publish(ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts) throws Exception {
    RetryTopicRouter.Origin origin = origin(raw);
    RecordHeaders headers = headers(raw, origin, error, attempts);
    String dlt = origin.topic() + suffix;
    try {
      send(new ProducerRecord<>(dlt, null, origin.timestamp(), raw.key(), raw.value(), headers));
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof RecordTooLargeException) || raw.value() == null) {
        throw e;
      }
      byte[] value = raw.value().length > maxValueBytes ? Arrays.copyOf(raw.value(), maxValueBytes) : null;
      headers.add(DLT_TRUNCATED, utf8(Integer.toString(raw.value().length)));
      LOG.warn("GiftKit consumer '{}': {}-{}@{} is too large for {}; dead-lettering it with its value {}", name,
          raw.topic(), raw.partition(), raw.offset(), dlt,
          value == null ? "left out" : "truncated to " + maxValueBytes + " bytes");
      try {
        send(new ProducerRecord<>(dlt, null, origin.timestamp(), raw.key(), value, headers));
      } catch (ExecutionException stillTooLarge) {
        if (!(stillTooLarge.getCause() instanceof RecordTooLargeException) || value == null) {
          throw stillTooLarge;
        }
        send(new ProducerRecord<>(dlt, null, origin.timestamp(), raw.key(), null, headers));
      }
    }
  }

  /**
   * Publishes {@code record} (a retry record) and waits for the acknowledgement.
   *
   * @throws Exception if it was not acknowledged (the source record must not be committed past)
   */
  void send(ProducerRecord<byte[], byte[]> record) throws Exception {
    producer.send(record).get(timeoutMillis + 1_000, TimeUnit.MILLISECONDS);
  }

  /** @return {@code message}, cut to 1,000 characters */
  static String truncate(String message) {
    return message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "…" : message;
  }

  /**
   * The record's own headers (earlier dead-letter and retry headers left out) and the dead-letter
   * headers naming {@code origin}.
   */
  static RecordHeaders headers(ConsumerRecord<byte[], byte[]> raw, RetryTopicRouter.Origin origin, Throwable error,
      int attempts) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : raw.headers()) {
      // replace, never append, earlier dead-letter headers; the retry headers are said by the DLT ones
      if (!h.key().startsWith("giftkit-dlt-") && !h.key().startsWith("giftkit-retry-")) {
        headers.add(h);
      }
    }
    String message = truncate(String.valueOf(error.getMessage()));
    headers.add(DLT_TOPIC, utf8(origin.topic()));
    headers.add(DLT_PARTITION, utf8(Integer.toString(origin.partition())));
    headers.add(DLT_OFFSET, utf8(Long.toString(origin.offset())));
    headers.add(DLT_TIMESTAMP, utf8(Long.toString(origin.timestamp())));
    headers.add(DLT_EXCEPTION, utf8(error.getClass().getName()));
    headers.add(DLT_MESSAGE, utf8(message));
    headers.add(DLT_ATTEMPTS, utf8(Integer.toString(attempts)));
    String site = SiteHeaders.text(raw.headers(), SiteHeaders.SITE);
    if (site != null) {
      headers.add(DLT_SITE, utf8(site));
    }
    return headers;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * @param action run once the producer is closed
   * @return this publisher
   */
  DeadLetterPublisher afterClose(Runnable action) {
    this.afterClose = action;
    return this;
  }

  /** Closes the producer, waiting up to 10 s for what it still sends. */
  @Override
  public void close() {
    try {
      producer.close(Duration.ofSeconds(10));
    } finally {
      afterClose.run();
    }
  }
}
