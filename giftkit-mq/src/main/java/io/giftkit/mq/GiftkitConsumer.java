package io.giftkit.mq;

import io.giftkit.core.Checks;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A managed Kafka consumer: you give the handler, GiftKit polls, dispatches, retries, dead-letters
 * and commits. The application never calls commit.
 *
 * <pre>{@code
 * GiftkitConsumer<String, GiftEvent> settlement = GiftkitConsumer.<String, GiftEvent>builder("settlement")
 *     .kafka(Map.of("bootstrap.servers", brokers, "group.id", "settlement"))
 *     .topics("gift-events")
 *     .deserializers(new StringDeserializer(), giftEventDeserializer)
 *     .transactionalHandler(dataSource, new JdbcIdempotencyStore("giftkit_idempotency"),
 *         record -> record.value().orderId(),                     // the business key, not the offset
 *         (record, connection) -> ledger.apply(connection, record.value()))
 *     .retries(3, Duration.ofMillis(200))
 *     .siteFilter(SiteFilter.localOnly(Site.of("a")))
 *     .build();
 * settlement.start();
 * }</pre>
 *
 * <p><b>Delivery.</b> Offsets are committed only past records that were handled, skipped as
 * duplicates, dropped by the site filter, or acknowledged by the dead-letter topic: at least once,
 * nothing lost on a crash. Commits are asynchronous on the poll loop and synchronous on
 * rebalance and close. Records of a partition are handled in order, one at a time.
 *
 * <p><b>Retries.</b> A failed record is retried in place with exponential back-off without blocking
 * the poll loop: its partition is paused and the consumer seeks back to it, other partitions keep
 * flowing, and {@code poll} keeps being called, so {@code max.poll.interval.ms} is never exceeded by
 * back-off. After {@code maxAttempts} the record goes to {@code <topic><suffix>} ({@code .DLT}) with
 * headers naming the original topic, partition, offset and timestamp, the exception class and
 * message (replacing any earlier dead-letter headers, the message truncated to 1,000 characters),
 * the attempts and the origin site; only after the dead-letter topic acknowledged it is the offset
 * committed past it. If that publish fails, the record is kept (its partition paused, the publish
 * retried with back-off): never dropped. Records whose bytes cannot be deserialized go straight to
 * the dead-letter topic. Ordering trade-off: a failing record holds back the records behind it in
 * its partition for at most its retries.
 *
 * <p><b>Idempotency.</b> With a {@link #builder transactional handler}, the business key is claimed
 * in the {@link IdempotencyStore} in the same database transaction as the handler's writes: a
 * duplicate is skipped and counted, and a crash between claim and writes cannot happen.
 *
 * <p><b>Health.</b> {@link #state()} is RUNNING while the loop runs; if the loop dies (an
 * {@link Error}, an unexpected exception) it is FAILED with its cause, never silently running.
 *
 * <p>Thread-safe to start, stop and read stats from other threads; the handler runs on the
 * consumer's own thread.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class GiftkitConsumer<K, V> implements AutoCloseable {

  /** The consumer's lifecycle. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Polling. */
    RUNNING,
    /** Closed normally. */
    STOPPED,
    /** The poll loop died; see {@link #failure()}. */
    FAILED
  }

  /** Handles one record. */
  @FunctionalInterface
  public interface RecordHandler<K, V> {
    /**
     * @param record the record
     * @throws Exception to have it retried, then dead-lettered
     */
    void handle(ConsumerRecord<K, V> record) throws Exception;
  }

  /** Handles one record inside a database transaction shared with the idempotency claim. */
  @FunctionalInterface
  public interface TransactionalHandler<K, V> {
    /**
     * @param record the record
     * @param connection the transaction's connection (auto-commit off; do not commit)
     * @throws Exception to roll back, then have it retried, then dead-lettered
     */
    void handle(ConsumerRecord<K, V> record, Connection connection) throws Exception;
  }

  /** Dead-letter header names. */
  public static final String DLT_TOPIC = "giftkit-dlt-topic";
  /** Original partition. */
  public static final String DLT_PARTITION = "giftkit-dlt-partition";
  /** Original offset. */
  public static final String DLT_OFFSET = "giftkit-dlt-offset";
  /** Original timestamp (epoch ms). */
  public static final String DLT_TIMESTAMP = "giftkit-dlt-timestamp";
  /** The exception's class. */
  public static final String DLT_EXCEPTION = "giftkit-dlt-exception";
  /** The exception's message, truncated. */
  public static final String DLT_MESSAGE = "giftkit-dlt-message";
  /** How many times the record was tried. */
  public static final String DLT_ATTEMPTS = "giftkit-dlt-attempts";
  /** The record's origin site, if it had one. */
  public static final String DLT_SITE = "giftkit-dlt-site";

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);
  private static final int MAX_MESSAGE = 1_000;

  private final String name;
  private final String group;
  private final Map<String, Object> consumerConfig;
  private final Map<String, Object> producerConfig;
  private final List<String> topics;
  private final Deserializer<K> keyDeserializer;
  private final Deserializer<V> valueDeserializer;
  private final RecordHandler<K, V> handler;
  private final int maxAttempts;
  private final long backoffNanos;
  private final long maxBackoffNanos;
  private final String dltSuffix;
  private final Duration dltTimeout;
  private final SiteFilter siteFilter;
  private final Map<TopicPartition, Retry> retries = new HashMap<>(); // loop thread only
  private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>(); // loop thread only
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final LongAdder handled = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder filtered = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder deadLetterFailures = new LongAdder();
  private volatile boolean running;
  private Thread thread;
  private KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;

  /** A record being retried: its offset, tries so far, when to try again, and whether only the DLT publish is left. */
  private static final class Retry {
    final long offset;
    int attempts;
    long retryAt;
    Throwable lastError;
    boolean deadLetterOnly;

    Retry(long offset) {
      this.offset = offset;
    }
  }

  private GiftkitConsumer(Builder<K, V> b) {
    this.name = b.name;
    this.group = String.valueOf(b.kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
    this.topics = List.copyOf(b.topics);
    this.keyDeserializer = b.keyDeserializer;
    this.valueDeserializer = b.valueDeserializer;
    this.handler = b.handler;
    this.maxAttempts = b.maxAttempts;
    this.backoffNanos = b.backoff.toNanos();
    this.maxBackoffNanos = b.maxBackoff.toNanos();
    this.dltSuffix = b.dltSuffix;
    this.dltTimeout = b.dltTimeout;
    this.siteFilter = b.siteFilter;
    Map<String, Object> c = new HashMap<>(b.kafka);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.consumerConfig = c;
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.kafka.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) b.dltTimeout.toMillis());
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(b.dltTimeout.toMillis(), 1_000));
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(b.dltTimeout.toMillis(), 30_000));
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producerConfig = p;
  }

  /**
   * Starts a builder.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name names the consumer's thread and log lines; not blank
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name) {
    return new Builder<>(Checks.requireNonBlank("name", name));
  }

  /** Starts polling on the consumer's own thread. */
  public synchronized void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("consumer '" + name + "' was already started (state " + state.get() + ")");
    }
    consumer = new KafkaConsumer<>(consumerConfig);
    producer = new KafkaProducer<>(producerConfig);
    running = true;
    thread = new Thread(this::loop, "giftkit-consumer-" + name);
    thread.start();
  }

  /** @return the lifecycle state */
  public State state() {
    return state.get();
  }

  /** @return why the loop died, if it did */
  public Throwable failure() {
    return failure.get();
  }

  /** @return records handled */
  public long handled() {
    return handled.sum();
  }

  /** @return records skipped because their key was already applied */
  public long duplicates() {
    return duplicates.sum();
  }

  /** @return records dropped by the site filter (committed, not handled) */
  public long filtered() {
    return filtered.sum();
  }

  /** @return records published to the dead-letter topic */
  public long deadLettered() {
    return deadLettered.sum();
  }

  /** @return handler failures that will be (or were) retried */
  public long retried() {
    return retried.sum();
  }

  /** @return dead-letter publishes that failed (and were retried) */
  public long deadLetterFailures() {
    return deadLetterFailures.sum();
  }

  /** Stops polling after the record in hand, commits what was done, and closes. Waits up to 30 s. */
  @Override
  public void close() {
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void loop() {
    try {
      consumer.subscribe(topics, new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          commitSync(partitions);
          partitions.forEach(retries::remove);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          // Retry state was dropped on revocation: assigned partitions start from the committed offset.
        }
      });
      while (running) {
        resumeDue();
        ConsumerRecords<byte[], byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(100));
        } catch (WakeupException e) {
          break;
        }
        for (TopicPartition tp : records.partitions()) {
          for (ConsumerRecord<byte[], byte[]> record : records.records(tp)) {
            if (!running) {
              break;
            }
            if (!process(tp, record)) {
              consumer.seek(tp, record.offset());
              consumer.pause(List.of(tp));
              break;
            }
            pending.put(tp, new OffsetAndMetadata(record.offset() + 1));
          }
        }
        if (!pending.isEmpty()) {
          consumer.commitAsync(new HashMap<>(pending), (offsets, e) -> {
            if (e != null) {
              LOG.warn("GiftKit consumer '{}': async commit failed ({}); the next commit covers it", name, e.toString());
            }
          });
        }
      }
      try {
        commitSync(null);
      } catch (WakeupException pendingWakeup) {
        commitSync(null); // close() woke the consumer after its last poll: the wake-up is spent, commit again
      }
      state.set(State.STOPPED);
    } catch (Throwable t) {
      failure.set(t);
      state.set(State.FAILED);
      LOG.error("GiftKit consumer '{}': the poll loop died; the consumer is FAILED", name, t);
      if (t instanceof VirtualMachineError) {
        throw (VirtualMachineError) t;
      }
    } finally {
      try {
        consumer.close(Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        LOG.warn("GiftKit consumer '{}': closing the Kafka consumer failed", name, e);
      }
      producer.close(Duration.ofSeconds(10));
    }
  }

  private void commitSync(Collection<TopicPartition> only) {
    Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : pending.entrySet()) {
      if (only == null || only.contains(e.getKey())) {
        toCommit.put(e.getKey(), e.getValue());
      }
    }
    if (!toCommit.isEmpty()) {
      consumer.commitSync(toCommit);
      toCommit.keySet().forEach(pending::remove);
    }
  }

  private void resumeDue() {
    if (retries.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Set<TopicPartition> due = new HashSet<>();
    for (Map.Entry<TopicPartition, Retry> e : retries.entrySet()) {
      if (now - e.getValue().retryAt >= 0) {
        due.add(e.getKey());
      }
    }
    due.retainAll(consumer.paused());
    if (!due.isEmpty()) {
      consumer.resume(due);
    }
  }

  /** Handles one record; false means "not done: seek back and pause its partition". */
  private boolean process(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw) {
    String site = SiteHeaders.text(raw.headers(), SiteHeaders.SITE);
    if (!siteFilter.accepts(site)) {
      filtered.increment();
      return true;
    }
    Retry retry = retries.get(tp);
    if (retry != null && retry.offset != raw.offset()) {
      retries.remove(tp);
      retry = null;
    }
    if (retry != null && retry.deadLetterOnly) {
      return deadLetter(tp, raw, retry.lastError, retry.attempts, retry);
    }
    ConsumerRecord<K, V> record;
    try {
      record = new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.timestamp(), raw.timestampType(),
          raw.serializedKeySize(), raw.serializedValueSize(),
          raw.key() == null ? null : keyDeserializer.deserialize(raw.topic(), raw.headers(), raw.key()),
          raw.value() == null ? null : valueDeserializer.deserialize(raw.topic(), raw.headers(), raw.value()),
          raw.headers(), raw.leaderEpoch());
    } catch (RuntimeException poison) {
      return deadLetter(tp, raw, poison, 0, retry == null ? newRetry(tp, raw) : retry);
    }
    try {
      handler.handle(record);
      handled.increment();
      retries.remove(tp);
      return true;
    } catch (Duplicate d) {
      duplicates.increment();
      retries.remove(tp);
      return true;
    } catch (Exception e) {
      Retry r = retry == null ? newRetry(tp, raw) : retry;
      r.attempts++;
      r.lastError = e;
      if (r.attempts >= maxAttempts) {
        return deadLetter(tp, raw, e, r.attempts, r);
      }
      retried.increment();
      r.retryAt = System.nanoTime() + backoff(r.attempts);
      LOG.debug("GiftKit consumer '{}': {}-{}@{} failed (attempt {} of {}); retrying", name, raw.topic(),
          raw.partition(), raw.offset(), r.attempts, maxAttempts, e);
      return false;
    }
  }

  private Retry newRetry(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw) {
    Retry r = new Retry(raw.offset());
    retries.put(tp, r);
    return r;
  }

  private long backoff(int attempts) {
    double nanos = backoffNanos * Math.pow(2, Math.max(0, attempts - 1));
    return (long) Math.min(nanos, maxBackoffNanos);
  }

  private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts,
      Retry retry) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : raw.headers()) {
      if (!h.key().startsWith("giftkit-dlt-")) { // replace, never append, earlier dead-letter headers
        headers.add(h);
      }
    }
    String message = String.valueOf(error.getMessage());
    if (message.length() > MAX_MESSAGE) {
      message = message.substring(0, MAX_MESSAGE) + "…";
    }
    headers.add(DLT_TOPIC, utf8(raw.topic()));
    headers.add(DLT_PARTITION, utf8(Integer.toString(raw.partition())));
    headers.add(DLT_OFFSET, utf8(Long.toString(raw.offset())));
    headers.add(DLT_TIMESTAMP, utf8(Long.toString(raw.timestamp())));
    headers.add(DLT_EXCEPTION, utf8(error.getClass().getName()));
    headers.add(DLT_MESSAGE, utf8(message));
    headers.add(DLT_ATTEMPTS, utf8(Integer.toString(attempts)));
    String site = SiteHeaders.text(raw.headers(), SiteHeaders.SITE);
    if (site != null) {
      headers.add(DLT_SITE, utf8(site));
    }
    try {
      producer.send(new ProducerRecord<>(raw.topic() + dltSuffix, null, raw.timestamp(), raw.key(), raw.value(), headers))
          .get(dltTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      deadLettered.increment();
      retries.remove(tp);
      LOG.warn("GiftKit consumer '{}': {}-{}@{} dead-lettered to {} after {} attempt(s): {}", name, raw.topic(),
          raw.partition(), raw.offset(), raw.topic() + dltSuffix, attempts, error.toString());
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      deadLetterFailures.increment();
      retry.deadLetterOnly = true;
      retry.lastError = error;
      retry.attempts = attempts;
      retry.retryAt = System.nanoTime() + backoff(Math.max(1, attempts));
      LOG.warn("GiftKit consumer '{}': publishing {}-{}@{} to {} failed ({}); not committing past it, will retry",
          name, raw.topic(), raw.partition(), raw.offset(), raw.topic() + dltSuffix, e.toString());
      return false;
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Thrown inside the transactional adapter to mean "already applied". */
  private static final class Duplicate extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Duplicate() {
      super(null, null, false, false);
    }
  }

  @Override
  public String toString() {
    return "GiftkitConsumer{name=" + name + ", group=" + group + ", topics=" + topics + ", state=" + state.get() + "}";
  }

  /**
   * Builds a {@link GiftkitConsumer}. Not thread-safe.
   *
   * @param <K> the key type
   * @param <V> the value type
   */
  public static final class Builder<K, V> {
    private final String name;
    private final Map<String, Object> kafka = new HashMap<>();
    private final List<String> topics = new ArrayList<>();
    private Deserializer<K> keyDeserializer;
    private Deserializer<V> valueDeserializer;
    private RecordHandler<K, V> handler;
    private int maxAttempts = 3;
    private Duration backoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(10);
    private String dltSuffix = ".DLT";
    private Duration dltTimeout = Duration.ofSeconds(10);
    private SiteFilter siteFilter = SiteFilter.all();

    private Builder(String name) {
      this.name = name;
    }

    /**
     * @param config Kafka consumer settings; {@code bootstrap.servers} and {@code group.id} required
     * @return this builder
     */
    public Builder<K, V> kafka(Map<String, ?> config) {
      kafka.putAll(Checks.requireNonNull("kafka", config));
      return this;
    }

    /**
     * @param config Kafka consumer settings
     * @return this builder
     */
    public Builder<K, V> kafka(Properties config) {
      config.forEach((k, v) -> kafka.put(String.valueOf(k), v));
      return this;
    }

    /** @param names the topics to consume @return this builder */
    public Builder<K, V> topics(String... names) {
      for (String t : names) {
        topics.add(Checks.requireNonBlank("topic", t));
      }
      return this;
    }

    /**
     * @param key turns key bytes into keys
     * @param value turns value bytes into values; a failure sends the record to the dead-letter topic
     * @return this builder
     */
    public Builder<K, V> deserializers(Deserializer<K> key, Deserializer<V> value) {
      this.keyDeserializer = Checks.requireNonNull("keyDeserializer", key);
      this.valueDeserializer = Checks.requireNonNull("valueDeserializer", value);
      return this;
    }

    /** @param handler handles each record (no idempotency) @return this builder */
    public Builder<K, V> handler(RecordHandler<K, V> handler) {
      this.handler = Checks.requireNonNull("handler", handler);
      return this;
    }

    /**
     * Handles each record in a database transaction that first claims its business key: a key
     * already claimed is skipped (a duplicate); the claim and the handler's writes commit together.
     *
     * @param dataSource the database holding the handler's data and the idempotency table
     * @param store the idempotency store
     * @param keyOf the record's business key (e.g. the gift order id; not the offset)
     * @param handler the handler
     * @return this builder
     */
    public Builder<K, V> transactionalHandler(DataSource dataSource, IdempotencyStore store,
        Function<ConsumerRecord<K, V>, String> keyOf, TransactionalHandler<K, V> handler) {
      Checks.requireNonNull("dataSource", dataSource);
      Checks.requireNonNull("store", store);
      Checks.requireNonNull("keyOf", keyOf);
      Checks.requireNonNull("handler", handler);
      this.handler = record -> {
        String group = String.valueOf(kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          try {
            if (!store.claim(c, group, keyOf.apply(record))) {
              c.rollback();
              throw new Duplicate();
            }
            handler.handle(record, c);
            c.commit();
          } catch (Exception | Error e) {
            c.rollback();
            throw e;
          }
        }
      };
      return this;
    }

    /**
     * @param maxAttempts tries before dead-lettering; in [1, 100]; default 3
     * @param backoff the first retry's delay, doubling each time; positive; default 200 ms
     * @return this builder
     */
    public Builder<K, V> retries(int maxAttempts, Duration backoff) {
      this.maxAttempts = (int) Checks.requireInRange("maxAttempts", maxAttempts, 1, 100);
      this.backoff = Checks.requirePositive("backoff", backoff);
      return this;
    }

    /** @param suffix the dead-letter topic is {@code <topic><suffix>}; default {@code .DLT} @return this builder */
    public Builder<K, V> deadLetterSuffix(String suffix) {
      this.dltSuffix = Checks.requireNonBlank("deadLetterSuffix", suffix);
      return this;
    }

    /** @param timeout how long a dead-letter publish may take; at least 1 s; default 10 s @return this builder */
    public Builder<K, V> deadLetterTimeout(Duration timeout) {
      Checks.requirePositive("deadLetterTimeout", timeout);
      if (timeout.toMillis() < 1_000) {
        throw Checks.invalid("deadLetterTimeout", "must be at least 1s", timeout);
      }
      this.dltTimeout = timeout;
      return this;
    }

    /** @param filter which records this site handles; default all @return this builder */
    public Builder<K, V> siteFilter(SiteFilter filter) {
      this.siteFilter = Checks.requireNonNull("siteFilter", filter);
      return this;
    }

    /**
     * @return the consumer (not started)
     * @throws io.giftkit.core.InvalidConfigException naming what is missing or wrong
     */
    public GiftkitConsumer<K, V> build() {
      if (kafka.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) == null) {
        throw Checks.invalid("bootstrap.servers", "must be set", null);
      }
      Object group = kafka.get(ConsumerConfig.GROUP_ID_CONFIG);
      if (group == null || String.valueOf(group).isBlank()) {
        throw Checks.invalid("group.id", "must be set", group);
      }
      if (topics.isEmpty()) {
        throw Checks.invalid("topics", "must name at least one topic", "none");
      }
      for (String t : topics) {
        if ((t + dltSuffix).equals(t) || topics.contains(t + dltSuffix)) {
          throw Checks.invalid("deadLetterSuffix", "must not make a dead-letter topic equal to a consumed topic", dltSuffix);
        }
      }
      Checks.requireNonNull("deserializers", keyDeserializer);
      Checks.requireNonNull("handler", handler);
      return new GiftkitConsumer<>(this);
    }
  }
}
