package io.giftkit.mq;

import io.giftkit.core.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a failed record goes with {@link RetryTopics}: which consumed topics are retry topics and at
 * which level, the next topic of a record, the retry record itself (the record's key, value and
 * headers plus the {@code giftkit-retry-*} headers), when a record on a retry topic is due, and the
 * original topic, partition and offset a retried record came from (for the dead-letter topic). It
 * publishes nothing: the {@link RecordProcessor} sends what it builds through the dead-letter
 * producer and commits past the source record only after the acknowledgement.
 *
 * <p>Due times are wall-clock epoch milliseconds, read from {@link #wallClock}: the system clock, or,
 * with an injected ticker, the clock at build advanced by that ticker (tests drive due times with a
 * fake ticker). Immutable, thread-safe (shared by a consumer's poll loops).
 */
final class RetryTopicRouter {

  /** Where a record was first published. */
  record Origin(String topic, int partition, long offset, long timestamp) {
    static Origin of(ConsumerRecord<?, ?> raw) {
      return new Origin(raw.topic(), raw.partition(), raw.offset(), raw.timestamp());
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final RetryTopics retryTopics;
  private final String group;
  private final byte[] groupBytes;
  private final LongSupplier epochMillis;
  private final Map<String, Integer> levels = new HashMap<>(); // retry topic -> k (1-based)
  private final Map<String, String> originals = new HashMap<>(); // retry topic -> original topic
  private final List<String> names = new ArrayList<>();

  /**
   * @param mainTopics the topics the user consumes
   * @param group the consumer group: its retry records carry it, another group's are skipped
   * @param epochMillis the wall clock for due times (see {@link #wallClock})
   */
  RetryTopicRouter(RetryTopics retryTopics, List<String> mainTopics, String group, LongSupplier epochMillis) {
    this.retryTopics = retryTopics;
    this.group = group;
    this.groupBytes = utf8(group);
    this.epochMillis = epochMillis;
    for (String topic : mainTopics) {
      List<String> of = retryTopics.topicsOf(topic);
      for (int k = 1; k <= of.size(); k++) {
        levels.put(of.get(k - 1), k);
        originals.put(of.get(k - 1), topic);
      }
      names.addAll(of);
    }
  }

  /**
   * @return {@link System#currentTimeMillis()} for the system ticker; for another ticker, the wall
   *     clock now advanced by that ticker from now on
   */
  static LongSupplier wallClock(Ticker ticker) {
    if (ticker == Ticker.system()) {
      return System::currentTimeMillis;
    }
    long anchorMillis = System.currentTimeMillis();
    long anchorNanos = ticker.read();
    return () -> anchorMillis + TimeUnit.NANOSECONDS.toMillis(ticker.read() - anchorNanos);
  }

  /** @return every retry topic, of every consumed topic */
  List<String> topics() {
    return List.copyOf(names);
  }

  /** @return the original topic of {@code topic} if it is a retry topic, else {@code topic} */
  String originalTopicOf(String topic) {
    return originals.getOrDefault(topic, topic);
  }

  /**
   * @return false for a record on a retry topic that another consumer group put there (groups that
   *     consume the same topic share its retry topics; each handles only its own retries)
   */
  boolean ours(ConsumerRecord<byte[], byte[]> raw) {
    if (!originals.containsKey(raw.topic())) {
      return true;
    }
    Header h = raw.headers().lastHeader(RetryTopics.GROUP);
    return h == null || java.util.Arrays.equals(h.value(), groupBytes);
  }

  /** @return 0 for a consumed topic, k for its retry topic k */
  int level(String topic) {
    Integer k = levels.get(topic);
    return k == null ? 0 : k;
  }

  /** @return whether a record failing on {@code topic} goes to another retry topic (else to the DLT) */
  boolean hasNext(String topic) {
    return level(topic) < retryTopics.retryDelays().size();
  }

  /** @return the topic a record failing on {@code topic} goes to next ({@link #hasNext} must be true) */
  String nextTopic(String topic) {
    return originals.getOrDefault(topic, topic) + RetryTopics.SUFFIX + (level(topic) + 1);
  }

  /** @return where {@code raw} was first published: from its retry headers on a retry topic, else its own */
  Origin origin(ConsumerRecord<byte[], byte[]> raw) {
    String original = originals.get(raw.topic());
    if (original == null) {
      return Origin.of(raw);
    }
    String p = RetryTopics.text(raw.headers(), RetryTopics.ORIGINAL_PARTITION);
    String o = RetryTopics.text(raw.headers(), RetryTopics.ORIGINAL_OFFSET);
    String t = RetryTopics.text(raw.headers(), RetryTopics.ORIGINAL_TIMESTAMP);
    try {
      return new Origin(original, p == null ? raw.partition() : Integer.parseInt(p),
          o == null ? raw.offset() : Long.parseLong(o), t == null ? raw.timestamp() : Long.parseLong(t));
    } catch (NumberFormatException e) { // not written by GiftKit: name the record as consumed
      return new Origin(original, raw.partition(), raw.offset(), raw.timestamp());
    }
  }

  /** @return attempts that failed before {@code raw} was consumed: 0 on a consumed topic */
  int priorAttempts(ConsumerRecord<byte[], byte[]> raw) {
    int level = level(raw.topic());
    if (level == 0) {
      return 0;
    }
    String a = RetryTopics.text(raw.headers(), RetryTopics.ATTEMPTS);
    try {
      return a == null ? level : Integer.parseInt(a);
    } catch (NumberFormatException e) {
      return level;
    }
  }

  /**
   * @return nanoseconds until {@code raw} is due: 0 unless it is on a retry topic with a due time
   *     still to come; never more than that retry topic's delay (a producer's clock ahead of ours
   *     cannot stall the partition)
   */
  long waitNanos(ConsumerRecord<byte[], byte[]> raw) {
    int level = level(raw.topic());
    if (level == 0) {
      return 0;
    }
    String due = RetryTopics.text(raw.headers(), RetryTopics.DUE);
    if (due == null) {
      return 0;
    }
    long waitMillis;
    try {
      waitMillis = Long.parseLong(due) - epochMillis.getAsLong();
    } catch (NumberFormatException e) {
      return 0;
    }
    if (waitMillis <= 0) {
      return 0;
    }
    Duration delay = retryTopics.retryDelays().get(level - 1);
    return TimeUnit.MILLISECONDS.toNanos(Math.min(waitMillis, delay.toMillis()));
  }

  /**
   * The record to publish to {@link #nextTopic}: the record's key, value and headers (the site and
   * routing tags unchanged; earlier {@code giftkit-retry-*} and {@code giftkit-dlt-*} headers
   * replaced), the original's topic, partition, offset and timestamp, the attempts failed so far, the
   * due time, and the failure.
   *
   * @param failedAttempts attempts that failed so far, this one included
   */
  ProducerRecord<byte[], byte[]> next(ConsumerRecord<byte[], byte[]> raw, Throwable error, int failedAttempts) {
    String next = nextTopic(raw.topic());
    Origin origin = origin(raw);
    long now = epochMillis.getAsLong();
    long due = now + retryTopics.retryDelays().get(level(raw.topic())).toMillis();
    RecordHeaders headers = new RecordHeaders();
    for (Header h : raw.headers()) {
      if (!h.key().startsWith("giftkit-retry-") && !h.key().startsWith("giftkit-dlt-")) {
        headers.add(h);
      }
    }
    headers.add(RetryTopics.ORIGINAL_TOPIC, utf8(origin.topic()));
    headers.add(RetryTopics.ORIGINAL_PARTITION, utf8(Integer.toString(origin.partition())));
    headers.add(RetryTopics.ORIGINAL_OFFSET, utf8(Long.toString(origin.offset())));
    headers.add(RetryTopics.ORIGINAL_TIMESTAMP, utf8(Long.toString(origin.timestamp())));
    headers.add(RetryTopics.ATTEMPTS, utf8(Integer.toString(failedAttempts)));
    headers.add(RetryTopics.GROUP, groupBytes);
    headers.add(RetryTopics.DUE, utf8(Long.toString(due)));
    headers.add(RetryTopics.EXCEPTION, utf8(error.getClass().getName()));
    headers.add(RetryTopics.MESSAGE, utf8(DeadLetterPublisher.truncate(String.valueOf(error.getMessage()))));
    return new ProducerRecord<>(next, null, now, raw.key(), raw.value(), headers);
  }

  /**
   * Logs an ERROR naming each retry topic the cluster does not have (a record that needs one waits,
   * paused, until it exists). A failed look-up is logged and ignored.
   */
  void checkTopicsExist(Consumer<?, ?> consumer, String name) {
    Set<String> existing;
    try {
      existing = consumer.listTopics(Duration.ofSeconds(10)).keySet();
    } catch (RuntimeException e) {
      LOG.warn("GiftKit consumer '{}': could not list topics to check the retry topics ({})", name, e.toString());
      return;
    }
    List<String> missing = new ArrayList<>();
    for (String t : names) {
      if (!existing.contains(t)) {
        missing.add(t);
      }
    }
    if (!missing.isEmpty()) {
      LOG.error("GiftKit consumer '{}': retry topics {} do not exist; create them like their original topic"
          + " (RetryTopics.createTopics(admin, topics)). Until then a record that fails waits in its partition,"
          + " paused, and its publish is retried", name, missing);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "RetryTopicRouter" + names + " " + retryTopics.retryDelays() + " group " + group;
  }
}
