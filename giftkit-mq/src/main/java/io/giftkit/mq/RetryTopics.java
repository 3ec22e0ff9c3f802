package io.giftkit.mq;

import io.giftkit.core.Checks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Non-blocking retries through retry topics ({@link GiftkitConsumer.Builder#retryTopics}): a record
 * whose handler fails is published to {@code <topic>.retry-1}, due after the first delay, and its
 * partition moves on; failing there it goes to {@code <topic>.retry-2} and so on, and after the last
 * one to the dead-letter topic of the original topic. Each record is tried once per topic, so N
 * delays give N + 1 attempts; non-retryable failures go straight to the dead-letter topic.
 *
 * <pre>{@code
 * RetryTopics retryTopics = RetryTopics.delays(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1));
 * try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers))) {
 *   retryTopics.createTopics(admin, List.of("gift-events"));      // gift-events.retry-1 … .retry-3
 * }
 * GiftkitConsumer.<String, String>builder("settlement") … .topics("gift-events").retryTopics(retryTopics) …
 * }</pre>
 *
 * <p>A handler finds where a record came from with {@link #originalTopic}, {@link #originalPartition},
 * {@link #originalOffset} and {@link #failedAttempts}: they read the {@code giftkit-retry-*} headers a
 * retried record carries, and give the record's own values for a record that was never retried.
 *
 * <p>Immutable and thread-safe. {@link #createTopics} blocks on the admin client.
 */
public final class RetryTopics {

  /** Retry topic {@code k} of topic {@code t} is {@code t + SUFFIX + k}. */
  public static final String SUFFIX = ".retry-";
  /** Most delays (retry topics per consumed topic). */
  public static final int MAX_DELAYS = 20;
  /** Longest delay. */
  public static final Duration MAX_DELAY = Duration.ofDays(1);

  /** Header: the original record's topic. */
  public static final String ORIGINAL_TOPIC = "giftkit-retry-topic";
  /** Header: the original record's partition. */
  public static final String ORIGINAL_PARTITION = "giftkit-retry-partition";
  /** Header: the original record's offset. */
  public static final String ORIGINAL_OFFSET = "giftkit-retry-offset";
  /** Header: the original record's timestamp (epoch ms). */
  public static final String ORIGINAL_TIMESTAMP = "giftkit-retry-timestamp";
  /** Header: attempts that failed before this record was published (1 on {@code retry-1}). */
  public static final String ATTEMPTS = "giftkit-retry-attempts";
  /**
   * Header: the consumer group that published the retry record. Groups consuming the same topic share
   * its retry topics; a consumer skips (commits, counts as filtered) another group's retry records.
   */
  public static final String GROUP = "giftkit-retry-group";
  /** Header: when the record is due on its retry topic (epoch ms). */
  public static final String DUE = "giftkit-retry-due";
  /** Header: the last failure's exception class. */
  public static final String EXCEPTION = "giftkit-retry-exception";
  /** Header: the last failure's message, truncated to 1,000 characters. */
  public static final String MESSAGE = "giftkit-retry-message";

  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration UNKNOWN_TOPIC_PATIENCE = Duration.ofSeconds(10);

  private final List<Duration> delays;

  private RetryTopics(List<Duration> delays) {
    this.delays = delays;
  }

  /**
   * @param delays how long after a failure the record is due on retry topic 1, 2 …; 1 to
   *     {@value #MAX_DELAYS} of them, each positive and at most 1 day
   * @return the retry topics
   * @throws io.giftkit.core.InvalidConfigException (an {@link IllegalArgumentException}) naming
   *     {@code retryTopics.delays} and the bad value
   */
  public static RetryTopics delays(Duration... delays) {
    Checks.requireNonNull("retryTopics.delays", delays);
    if (delays.length == 0 || delays.length > MAX_DELAYS) {
      throw Checks.invalid("retryTopics.delays", "must name 1 to " + MAX_DELAYS + " delays",
          delays.length + " delays");
    }
    List<Duration> list = new ArrayList<>(delays.length);
    for (int i = 0; i < delays.length; i++) {
      String parameter = "retryTopics.delays[" + i + "]";
      Checks.requirePositive(parameter, delays[i]);
      if (delays[i].compareTo(MAX_DELAY) > 0) {
        throw Checks.invalid(parameter, "must be at most 1 day", delays[i]);
      }
      list.add(delays[i]);
    }
    return new RetryTopics(List.copyOf(list));
  }

  /** @return the delays, retry topic 1's first */
  public List<Duration> retryDelays() {
    return delays;
  }

  /**
   * @param topic a consumed topic
   * @return its retry topics, {@code <topic>.retry-1} first
   */
  public List<String> topicsOf(String topic) {
    Checks.requireNonBlank("topic", topic);
    List<String> names = new ArrayList<>(delays.size());
    for (int k = 1; k <= delays.size(); k++) {
      names.add(topic + SUFFIX + k);
    }
    return names;
  }

  /**
   * Creates the missing retry topics of {@code topics}, each with the partitions and replication
   * factor of its original topic; existing ones are left alone. Blocks for up to 30 s per call to the
   * broker; an original topic the cluster does not know yet (just created) is asked about again for up
   * to 10 s.
   *
   * @param admin an admin client of the cluster
   * @param topics the consumed topics (they must exist)
   * @return the retry topics created (empty when all existed)
   * @throws ExecutionException what the broker answered (e.g. an original topic does not exist)
   * @throws TimeoutException if the broker did not answer in time
   * @throws InterruptedException if interrupted while waiting
   */
  public List<String> createTopics(Admin admin, Collection<String> topics)
      throws ExecutionException, TimeoutException, InterruptedException {
    Checks.requireNonNull("admin", admin);
    Checks.requireNonNull("topics", topics);
    Map<String, TopicDescription> originals = describe(admin, topics);
    var existing = admin.listTopics().names().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    List<String> created = new ArrayList<>();
    for (String topic : topics) {
      TopicDescription d = originals.get(topic);
      short replication = (short) d.partitions().get(0).replicas().size();
      for (String name : topicsOf(topic)) {
        if (existing.contains(name)) {
          continue;
        }
        try {
          admin.createTopics(List.of(new NewTopic(name, d.partitions().size(), replication))).all()
              .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          created.add(name);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) { // created meanwhile by another instance: fine
            throw e;
          }
        }
      }
    }
    return created;
  }

  /**
   * Describes {@code topics}; a topic just created may not be known to every broker yet, so an unknown
   * topic is asked about again for up to 10 s before the answer stands.
   */
  private static Map<String, TopicDescription> describe(Admin admin, Collection<String> topics)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + UNKNOWN_TOPIC_PATIENCE.toNanos();
    while (true) {
      try {
        return admin.describeTopics(topics).allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() - deadline >= 0) {
          throw e;
        }
        Thread.sleep(100); // metadata propagation after a topic's creation; not a synchronisation of ours
      }
    }
  }

  /**
   * @param record a record as the handler got it
   * @return the topic it was first published to: its own unless it came from a retry topic
   */
  public static String originalTopic(ConsumerRecord<?, ?> record) {
    String t = text(record.headers(), ORIGINAL_TOPIC);
    return t == null ? record.topic() : t;
  }

  /**
   * @param record a record as the handler got it
   * @return its partition on the original topic
   */
  public static int originalPartition(ConsumerRecord<?, ?> record) {
    String p = text(record.headers(), ORIGINAL_PARTITION);
    return p == null ? record.partition() : Integer.parseInt(p);
  }

  /**
   * @param record a record as the handler got it
   * @return its offset on the original topic
   */
  public static long originalOffset(ConsumerRecord<?, ?> record) {
    String o = text(record.headers(), ORIGINAL_OFFSET);
    return o == null ? record.offset() : Long.parseLong(o);
  }

  /**
   * @param record a record as the handler got it
   * @return how many attempts failed before this one (0 for a record never retried, k on retry topic k)
   */
  public static int failedAttempts(ConsumerRecord<?, ?> record) {
    String a = text(record.headers(), ATTEMPTS);
    return a == null ? 0 : Integer.parseInt(a);
  }

  static String text(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "RetryTopics" + delays;
  }
}
