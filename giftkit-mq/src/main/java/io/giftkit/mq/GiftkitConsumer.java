package io.giftkit.mq;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A managed Kafka consumer: you give the handler, GiftKit polls, dispatches, retries, dead-letters
 * and commits. The application never calls commit.
 *
 * <pre>{@code
 * GiftkitConsumer<String, GiftEvent> settlement = GiftkitConsumer.<String, GiftEvent>builder("settlement")
 *     .kafka(Map.of("bootstrap.servers", brokers, "group.id", "settlement"))
 *     .topics("gift-events")
 *     .deserializers(new StringDeserializer(), giftEventDeserializer)
 *     .transactionalBatchHandler(dataSource, new JdbcIdempotencyStore("giftkit_idempotency"),
 *         record -> record.value().orderId(),                     // the business key, not the offset
 *         (records, connection) -> ledger.applyAll(connection, records))
 *     .retries(3, Duration.ofMillis(200))
 *     .concurrency(3)
 *     .siteFilter(SiteFilter.localOnly(Site.of("a")))
 *     .build();
 * settlement.start();
 * }</pre>
 *
 * <p><b>Delivery.</b> Offsets are committed only past records that were handled, skipped as
 * duplicates, dropped by the site filter, or acknowledged by the dead-letter topic: at least once,
 * nothing lost on a crash. Commits are asynchronous on the poll loop and synchronous on
 * rebalance and close. Records of a partition are handled in order; with {@code concurrency(n)},
 * n Kafka consumers in the group share the partitions, each on its own thread.
 *
 * <p><b>Batches.</b> A batch handler gets each partition's records from one poll at once (records
 * the site filter drops are left out, records that cannot be deserialized go to the dead-letter
 * topic). If a batch fails, its records are handled again one at a time, so only the failing record
 * is retried and dead-lettered.
 *
 * <p><b>Retries.</b> A failed record is retried in place with exponential back-off without blocking
 * the poll loop: its partition is paused and the consumer seeks back to it, other partitions keep
 * flowing, and {@code poll} keeps being called, so {@code max.poll.interval.ms} is never exceeded by
 * back-off. Failures are classified ({@link Builder#nonRetryable}, {@link Builder#transientFailures}):
 * a non-retryable one (e.g. a validation error) is dead-lettered after its first attempt; a transient
 * one (a deadlock, {@code read_only} during a switchover, a timeout) is retried with back-off and
 * jitter for as long as the {@link Builder#retryBudget} (30 s) allows; any other after
 * {@code maxAttempts}. Then the record goes to {@code <topic><suffix>} ({@code .DLT}) with
 * headers naming the original topic, partition, offset and timestamp, the exception class and
 * message (replacing any earlier dead-letter headers, the message truncated to 1,000 characters),
 * the attempts and the origin site; only after the dead-letter topic acknowledged it is the offset
 * committed past it. If that publish fails, the record is kept (its partition paused, the publish
 * retried with back-off): never dropped. A record too large for the dead-letter topic is sent with
 * its value truncated and a {@value #DLT_TRUNCATED} header giving the original size. Records whose
 * bytes cannot be deserialized go straight to the dead-letter topic. Ordering trade-off: a failing
 * record holds back the records behind it in its partition for at most its retries — unless
 * {@link Builder#retryTopics} moves failing records to retry topics instead (see {@link RetryTopics}).
 *
 * <p><b>Hanging handlers.</b> The handler runs on a helper thread; if it takes longer than
 * {@code maxProcessingTime} (default 60 s, validated against {@code max.poll.interval.ms}) it is
 * interrupted and the attempt counts as a failure, so the group never rebalances because a handler
 * hung. A handler that ignores the interrupt is abandoned (its thread is replaced).
 *
 * <p><b>Idempotency.</b> With a transactional handler, the business key is claimed in the
 * {@link IdempotencyStore} in the same database transaction as the handler's writes: a duplicate is
 * skipped and counted, and a crash between claim and writes cannot happen. With a
 * {@link RedisIdempotencyStore} the claim is a {@code SET NX}; see its guarantee.
 *
 * <p><b>Lag.</b> Per partition, the lag (records not yet handled) and the age of the oldest record
 * not yet handled are tracked ({@link #lag()}); with {@link Builder#lagAlert} a {@link LagListener}
 * hears when either stays above its threshold for a sustained period, and when it recovers.
 *
 * <p><b>Errors.</b> An {@link Error} from a deserializer or handler is that record's failure (retried,
 * dead-lettered) like an exception; only a {@link VirtualMachineError} stops the poll loop.
 *
 * <p><b>Health and supervision.</b> {@link #state()} is RUNNING while the loops run. A loop that dies
 * of something unexpected (a {@link VirtualMachineError}, an exception the loop does not handle) is
 * restarted by a supervisor after a back-off ({@link Builder#restarts}: 1 s doubling to 30 s by
 * default, {@link #restarts()} counts them); meanwhile the state is RESTARTING. It is FAILED, with
 * its cause, for what a restart cannot fix (a bad configuration, an invalid topic) or when the
 * restarts in a row run out: never a dead thread that looks alive.
 *
 * <p>Thread-safe to start, stop and read stats from other threads.
 *
 * <p><b>Structure.</b> This class is the facade: the builder, the lifecycle and the counters. The work
 * is done by package-private parts with one job each: {@code PollLoops} (the loops of one consumer,
 * their state, restarts by the {@code Supervisor}), {@code PollLoop} (one Kafka consumer's thread:
 * poll, hand out, commit calls), {@code RecordProcessor} (one partition's records: batches, site
 * filter, deserialization, each failure's fate), {@code CommitTracker} (offsets done, async/sync
 * commits, revocation and loss), {@code RetryTracker} (paused partitions, due times),
 * {@code HandlerInvoker} (helper thread, {@code maxProcessingTime}, abandonment), {@code HandlerForms}
 * (idempotency and transactions as decorators of the handler), {@code DeadLetterPublisher},
 * {@code LagMonitor}; retry decisions in {@code RetryPolicy} and {@code FailureClassifier}, retry
 * topics in {@code RetryTopicRouter}, publishing failed records in {@code FailedRecordPublisher}. Time is
 * read from an injected {@link Ticker} ({@link Builder#ticker}).
 *
 * <p>Size: past the house limit of ~400 lines because of the {@link Builder}, nested so that
 * {@code GiftkitConsumer.Builder} stays the type users name: it is most of the lines, each knob with
 * the javadoc of its rule and default.
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
    /**
     * A poll loop died of something a restart may fix and waits for its restart (see
     * {@link Builder#restarts}); the other loops keep polling. Not ready: its partitions go to the
     * group's other members meanwhile. Back to RUNNING once the restarted loop has polled.
     */
    RESTARTING,
    /** Closed normally. */
    STOPPED,
    /**
     * A poll loop died of what a restart cannot fix (a bad configuration, an invalid topic), or its
     * restarts in a row ran out; see {@link #failure()}.
     */
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

  /**
   * Handles the records of one poll: every partition's that is not waiting for a retry, each
   * partition's in offset order (a failed call falls back to one call per partition, then to one record
   * at a time).
   */
  @FunctionalInterface
  public interface BatchHandler<K, V> {
    /**
     * @param records the poll's records, grouped by partition, each partition's in offset order; never empty
     * @throws Exception to have the records handled again one at a time (then retried and dead-lettered)
     */
    void handle(List<ConsumerRecord<K, V>> records) throws Exception;
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

  /**
   * Handles the new records of one poll (every partition's, as {@link BatchHandler}) inside one
   * transaction with their claims: one commit per poll.
   */
  @FunctionalInterface
  public interface TransactionalBatchHandler<K, V> {
    /**
     * @param records the records whose keys were new, in offset order, never empty
     * @param connection the transaction's connection (auto-commit off; do not commit)
     * @throws Exception to roll back, then have the records handled again one at a time
     */
    void handle(List<ConsumerRecord<K, V>> records, Connection connection) throws Exception;
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
  /** Present when the value was truncated to fit the dead-letter topic: the original value's size in bytes. */
  public static final String DLT_TRUNCATED = "giftkit-dlt-truncated";

  /** Default tries before a record is dead-lettered. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** Default first retry delay (doubling each time). */
  public static final Duration DEFAULT_BACKOFF = Duration.ofMillis(200);
  /** Default time a record failing transiently is retried for before it is dead-lettered. */
  public static final Duration DEFAULT_RETRY_BUDGET = Duration.ofSeconds(30);
  /** Default bound on one handler call. */
  public static final Duration DEFAULT_MAX_PROCESSING_TIME = Duration.ofSeconds(60);
  /** Default restarts in a row of a dead poll loop: no limit. */
  public static final int DEFAULT_MAX_RESTARTS = Integer.MAX_VALUE;
  /** Default delay before the first restart of a dead poll loop (doubling for each restart in a row). */
  public static final Duration DEFAULT_FIRST_RESTART_DELAY = Duration.ofSeconds(1);
  /** Default cap on the delay between restarts. */
  public static final Duration DEFAULT_MAX_RESTART_DELAY = Duration.ofSeconds(30);
  /** Default size a too-large value is truncated to for the dead-letter topic. */
  public static final int DEFAULT_DEAD_LETTER_MAX_VALUE_BYTES = 16 * 1024;

  private final String name;
  private final String group;
  private final List<String> topics;
  private final int concurrency;
  private final Map<String, Object> producerConfig;
  private final String dltSuffix;
  private final Duration dltTimeout;
  private final int dltMaxValueBytes;
  private final RetryTopicRouter retryRouter;
  private final RetryTopics retryTopics;
  private final boolean syncCommits;
  private final Listeners<KafkaClientListener> clientListeners;
  private final ConsumerCounters counters = new ConsumerCounters();
  private final PollLoops<K, V> loops;

  private GiftkitConsumer(Builder<K, V> b) {
    this.name = b.name;
    this.group = String.valueOf(b.kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
    this.topics = List.copyOf(b.topics);
    this.retryTopics = b.retryTopics;
    this.syncCommits = b.syncCommits;
    this.retryRouter = b.retryTopics == null ? null
        : new RetryTopicRouter(b.retryTopics, topics, group, RetryTopicRouter.wallClock(b.ticker));
    List<String> subscribed = new ArrayList<>(topics);
    if (retryRouter != null) {
      subscribed.addAll(retryRouter.topics());
    }
    this.concurrency = b.concurrency;
    this.dltSuffix = b.dltSuffix;
    this.dltTimeout = b.dltTimeout;
    this.dltMaxValueBytes = b.dltMaxValueBytes;
    long maxProcessingNanos = b.maxProcessingTime.toNanos();
    Object interval = b.kafka.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
    long maxPollNanos = TimeUnit.MILLISECONDS.toNanos(interval == null ? 300_000 : Long.parseLong(String.valueOf(interval)));
    // no handler call starts after this much of a poll's batch: the last one (at most maxProcessingTime)
    // still ends well before max.poll.interval.ms
    long pollBudgetNanos = Math.max(0, (maxPollNanos - maxProcessingNanos) / 2);
    Listeners<LagListener> lagListeners = Listeners.create("consumer '" + b.name + "' lag");
    b.lagListeners.forEach(lagListeners::add);
    Map<String, Object> c = new HashMap<>(b.kafka);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.producerConfig = DeadLetterProducerConfig.of(b.kafka, b.dltProducerConfig, b.dltTimeout);
    RetryPolicy retryPolicy = new RetryPolicy(new FailureClassifier(b.nonRetryable, b.transientFailures),
        b.maxAttempts, b.backoff.toNanos(), b.maxBackoff.toNanos(), b.retryBudget.toNanos());
    ConsumerSettings<K, V> settings = new ConsumerSettings<>(b.name, List.copyOf(subscribed),
        Collections.unmodifiableMap(c), b.keyDeserializer, b.valueDeserializer, b.dispatch.apply(group), b.batch,
        b.concurrency, retryPolicy, maxProcessingNanos, pollBudgetNanos, b.siteFilter,
        new LagMonitor.Thresholds(b.maxLag, b.maxAge.toMillis(), b.sustain.toNanos()), lagListeners, b.ticker,
        retryRouter, b.syncCommits);
    Supervisor supervisor = new Supervisor(b.name, b.maxRestarts, b.firstRestartDelay, b.maxRestartDelay);
    Listeners<KafkaClientListener> clients = Listeners.create("consumer '" + b.name + "' Kafka clients");
    b.clientListeners.forEach(clients::add);
    this.clientListeners = clients;
    String consumerName = b.name;
    this.loops = new PollLoops<>(settings, supervisor, config -> {
      KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(config);
      clients.fire(l -> l.consumerCreated(consumerName, kafka));
      return kafka;
    }, counters, closed -> clients.fire(l -> l.consumerClosed(consumerName, closed)));
  }

  /**
   * Starts a builder.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name names the consumer's threads and log lines; not blank
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name) {
    return new Builder<>(Checks.requireNonBlank("name", name));
  }

  /**
   * Starts polling, on {@code concurrency} threads of its own.
   *
   * @throws IllegalStateException if it was started before
   */
  public void start() {
    loops.start(() -> {
      KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig);
      clientListeners.fire(l -> l.producerCreated(name, producer));
      return new DeadLetterPublisher(name, producer, dltSuffix, dltTimeout, dltMaxValueBytes, retryRouter)
          .afterClose(() -> clientListeners.fire(l -> l.producerClosed(name, producer)));
    });
  }

  /** @return the lifecycle state */
  public State state() {
    return loops.state();
  }

  /** @return why a loop died last (restarted or not), if one did */
  public Throwable failure() {
    return loops.failure();
  }

  /** @return poll loops restarted (or waiting for their restart) after they died */
  public long restarts() {
    return loops.restarts();
  }

  /** @return the dead-letter producer's effective settings (for tests) */
  Map<String, Object> deadLetterProducerConfig() {
    return producerConfig;
  }

  /** Test hook: the next poll loop to poll throws this, as if it died of it. */
  void failPollLoopOnce(RuntimeException failure) {
    loops.failOnce(failure);
  }

  /** @return the consumer's name */
  public String name() {
    return name;
  }

  /** @return the consumer group */
  public String group() {
    return group;
  }

  /** @return records handled */
  public long handled() {
    return counters.handled.sum();
  }

  /**
   * @return times this consumer lost partitions without committing (evicted from the group, e.g. a
   *     batch outlived {@code max.poll.interval.ms}, or partitions lost); it rejoined each time
   */
  public long membershipLosses() {
    return counters.membershipLosses.sum();
  }

  /**
   * @return times a poll's batch was cut short so that the next poll comes within
   *     {@code max.poll.interval.ms} (the rest is polled again, from its offset)
   */
  public long budgetCuts() {
    return counters.budgetCuts.sum();
  }

  /** @return records skipped because their key was already applied */
  public long duplicates() {
    return counters.duplicates.sum();
  }

  /** @return records dropped by the site filter (committed, not handled) */
  public long filtered() {
    return counters.filtered.sum();
  }

  /** @return records published to the dead-letter topic */
  public long deadLettered() {
    return counters.deadLettered.sum();
  }

  /** @return handler failures that will be (or were) retried */
  public long retried() {
    return counters.retried.sum();
  }

  /** @return records moved to a retry topic (the broker acknowledged them) */
  public long retryTopicPublishes() {
    return counters.retryTopicPublishes.sum();
  }

  /** @return publishes to a retry topic that failed (the record waited and the publish was retried) */
  public long retryTopicFailures() {
    return counters.retryTopicFailures.sum();
  }

  /** @return the retry topics, if {@link Builder#retryTopics} set them */
  public Optional<RetryTopics> retryTopics() {
    return Optional.ofNullable(retryTopics);
  }

  /** @return whether each poll's offsets are committed before the next poll ({@link Builder#syncCommits}) */
  public boolean syncCommits() {
    return syncCommits;
  }

  /** @return dead-letter publishes that failed (and were retried) */
  public long deadLetterFailures() {
    return counters.deadLetterFailures.sum();
  }

  /** @return handler calls interrupted for exceeding the max processing time */
  public long timeouts() {
    return counters.timeouts.sum();
  }

  /** @return batches that failed and were handled again one record at a time */
  public long batchFailures() {
    return counters.batchFailures.sum();
  }

  /** @return lag alerts raised */
  public long lagAlerts() {
    return counters.lagAlerts.sum();
  }

  /** @return the lag of every partition this consumer has handled records of, and still owns */
  public List<PartitionLag> lag() {
    return loops.lag();
  }

  /** Stops polling after the records in hand, commits what was done, and closes. Waits up to 30 s. */
  @Override
  public void close() {
    loops.close();
  }

  @Override
  public String toString() {
    return "GiftkitConsumer{name=" + name + ", group=" + group + ", topics=" + topics + ", concurrency="
        + concurrency + ", state=" + state() + "}";
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
    private final List<LagListener> lagListeners = new ArrayList<>();
    private final List<KafkaClientListener> clientListeners = new ArrayList<>();
    private Deserializer<K> keyDeserializer;
    private Deserializer<V> valueDeserializer;
    private Function<String, Dispatch<K, V>> dispatch; // by group id
    private boolean batch;
    private int concurrency = 1;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration backoff = DEFAULT_BACKOFF;
    private final Duration maxBackoff = Duration.ofSeconds(10);
    private Duration retryBudget = DEFAULT_RETRY_BUDGET;
    private final List<Class<? extends Throwable>> nonRetryable = new ArrayList<>();
    private final List<Class<? extends Throwable>> transientFailures = new ArrayList<>();
    private String dltSuffix = ".DLT";
    private Duration dltTimeout = Duration.ofSeconds(10);
    private int dltMaxValueBytes = DEFAULT_DEAD_LETTER_MAX_VALUE_BYTES;
    private final Map<String, Object> dltProducerConfig = new HashMap<>();
    private Duration maxProcessingTime = DEFAULT_MAX_PROCESSING_TIME;
    private SiteFilter siteFilter = SiteFilter.all();
    private long maxLag = Long.MAX_VALUE;
    private Duration maxAge = Duration.ofMillis(Long.MAX_VALUE);
    private Duration sustain = Duration.ZERO;
    private int maxRestarts = DEFAULT_MAX_RESTARTS;
    private Duration firstRestartDelay = DEFAULT_FIRST_RESTART_DELAY;
    private Duration maxRestartDelay = DEFAULT_MAX_RESTART_DELAY;
    private Ticker ticker = Ticker.system();
    private RetryTopics retryTopics;
    private boolean syncCommits = true;

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

    /**
     * @param names the topics to consume
     * @return this builder
     */
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

    /**
     * @param handler handles each record (no idempotency)
     * @return this builder
     */
    public Builder<K, V> handler(RecordHandler<K, V> handler) {
      Checks.requireNonNull("handler", handler);
      return use(false, g -> HandlerForms.plain(handler));
    }

    /**
     * @param handler handles each poll's records (no idempotency)
     * @return this builder
     */
    public Builder<K, V> batchHandler(BatchHandler<K, V> handler) {
      Checks.requireNonNull("handler", handler);
      return use(true, g -> HandlerForms.batch(handler));
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
      Checks.requireNonNull("handler", handler);
      return transactional(false, dataSource, store, keyOf, (records, c) -> handler.handle(records.get(0), c));
    }

    /**
     * Handles each poll's records (every partition's) in one database transaction that first claims all
     * their business keys in one statement ({@link IdempotencyStore#claimAll}): records whose key was
     * claimed before (or repeats within the batch) are skipped as duplicates; the claims and the
     * handler's writes commit together. The fast form: one transaction per poll, not per record.
     *
     * @param dataSource the database holding the handler's data and the idempotency table
     * @param store the idempotency store
     * @param keyOf the record's business key (e.g. the gift order id; not the offset)
     * @param handler the handler, given the new records only
     * @return this builder
     */
    public Builder<K, V> transactionalBatchHandler(DataSource dataSource, IdempotencyStore store,
        Function<ConsumerRecord<K, V>, String> keyOf, TransactionalBatchHandler<K, V> handler) {
      Checks.requireNonNull("handler", handler);
      return transactional(true, dataSource, store, keyOf, handler);
    }

    private Builder<K, V> transactional(boolean batch, DataSource dataSource, IdempotencyStore store,
        Function<ConsumerRecord<K, V>, String> keyOf, TransactionalBatchHandler<K, V> handler) {
      Checks.requireNonNull("dataSource", dataSource);
      Checks.requireNonNull("store", store);
      Checks.requireNonNull("keyOf", keyOf);
      return use(batch, g -> HandlerForms.transactional(g, dataSource, store, keyOf, handler));
    }

    /**
     * Handles records whose business key is new in a {@link RedisIdempotencyStore}: keys are claimed
     * ({@code SET NX}) for a poll's records at once, pipelined; records whose key was applied
     * before (or repeats within the batch) are skipped as duplicates; after the handler succeeded the
     * keys are marked done, after it failed they are released so the retry can claim them. See
     * {@link RedisIdempotencyStore} for the guarantee.
     *
     * @param store the store
     * @param keyOf the record's business key
     * @param handler the handler, given the new records only
     * @return this builder
     */
    public Builder<K, V> idempotentBatchHandler(RedisIdempotencyStore store,
        Function<ConsumerRecord<K, V>, String> keyOf, BatchHandler<K, V> handler) {
      Checks.requireNonNull("store", store);
      Checks.requireNonNull("keyOf", keyOf);
      Checks.requireNonNull("handler", handler);
      return use(true, g -> HandlerForms.redis(g, store, keyOf, handler));
    }

    private Builder<K, V> use(boolean batch, Function<String, Dispatch<K, V>> dispatch) {
      this.batch = batch;
      this.dispatch = dispatch;
      return this;
    }

    /**
     * @param concurrency Kafka consumers (and threads) in the group sharing the partitions; more than the
     *     partitions leaves some idle; in [1, 64]; default 1
     * @return this builder
     */
    public Builder<K, V> concurrency(int concurrency) {
      this.concurrency = (int) Checks.requireInRange("concurrency", concurrency, 1, 64);
      return this;
    }

    /**
     * For failures neither non-retryable nor transient ({@link #nonRetryable}, {@link #transientFailures}).
     *
     * @param maxAttempts tries before dead-lettering; in [1, 100]; default 3
     * @param backoff the first retry's delay, doubling each time up to 10 s; positive; default 200 ms
     * @return this builder
     */
    public Builder<K, V> retries(int maxAttempts, Duration backoff) {
      this.maxAttempts = (int) Checks.requireInRange("maxAttempts", maxAttempts, 1, 100);
      this.backoff = Checks.requirePositive("backoff", backoff);
      return this;
    }

    /**
     * Failures that no retry can fix: a record failing with one of these (or caused by one) goes to
     * the dead-letter topic after its first attempt. Added to the defaults: Kafka's
     * {@code SerializationException}, {@link IllegalArgumentException} (validation; includes
     * {@link NumberFormatException} and {@code InvalidConfigException}), {@link ClassCastException},
     * {@link java.sql.SQLDataException}. Checked before the transient ones and the defaults.
     *
     * @param failures the classes (subclasses match)
     * @return this builder
     */
    @SafeVarargs
    public final Builder<K, V> nonRetryable(Class<? extends Throwable>... failures) {
      for (Class<? extends Throwable> c : Checks.requireNonNull("nonRetryable", failures)) {
        nonRetryable.add(Checks.requireNonNull("nonRetryable", c));
      }
      return this;
    }

    /**
     * Failures that pass with time: retried with exponential back-off (from the {@link #retries}
     * back-off, doubling, capped at 10 s) and jitter until the record has been failing for the
     * {@link #retryBudget}, however many attempts that takes. Added to the defaults: SQL transient
     * and recoverable exceptions, SQL states 40001, 40P01 and 08xxx, MySQL/MariaDB errors 1213
     * (deadlock), 1205 (lock wait timeout), 1290/1836 ({@code read_only}), 1792, 1040, 2006, 2013,
     * {@link java.util.concurrent.TimeoutException}, socket timeouts, refused connections, Kafka's
     * {@code RetriableException} and GiftKit's {@code GiftkitTimeoutException}.
     *
     * @param failures the classes (subclasses match)
     * @return this builder
     */
    @SafeVarargs
    public final Builder<K, V> transientFailures(Class<? extends Throwable>... failures) {
      for (Class<? extends Throwable> c : Checks.requireNonNull("transientFailures", failures)) {
        transientFailures.add(Checks.requireNonNull("transientFailures", c));
      }
      return this;
    }

    /**
     * @param budget how long a record failing transiently is retried before it is dead-lettered (its
     *     partition waits meanwhile, paused; the others flow); in (0, 1 h]; default 30 s
     * @return this builder
     */
    public Builder<K, V> retryBudget(Duration budget) {
      Checks.requirePositive("retryBudget", budget);
      if (budget.compareTo(Duration.ofHours(1)) > 0) {
        throw Checks.invalid("retryBudget", "must be at most 1h", budget);
      }
      this.retryBudget = budget;
      return this;
    }

    /**
     * @param maxProcessingTime how long one handler call may take before it is interrupted and counts as
     *     a failure; positive and below {@code max.poll.interval.ms}; default 60 s
     * @return this builder
     */
    public Builder<K, V> maxProcessingTime(Duration maxProcessingTime) {
      this.maxProcessingTime = Checks.requirePositive("maxProcessingTime", maxProcessingTime);
      return this;
    }

    /**
     * @param suffix the dead-letter topic is {@code <topic><suffix>}; default {@code .DLT}
     * @return this builder
     */
    public Builder<K, V> deadLetterSuffix(String suffix) {
      this.dltSuffix = Checks.requireNonBlank("deadLetterSuffix", suffix);
      return this;
    }

    /**
     * @param timeout how long a dead-letter publish may take; at least 1 s; default 10 s
     * @return this builder
     */
    public Builder<K, V> deadLetterTimeout(Duration timeout) {
      Checks.requirePositive("deadLetterTimeout", timeout);
      if (timeout.toMillis() < 1_000) {
        throw Checks.invalid("deadLetterTimeout", "must be at least 1s", timeout);
      }
      this.dltTimeout = timeout;
      return this;
    }

    /**
     * Settings for the dead-letter producer, applied over what it takes by default: every setting of
     * the consumer's configuration ({@link #kafka}) that a producer accepts — security, SSL and SASL
     * of any mechanism, {@code client.dns.lookup}, metadata, socket and reconnect settings … — and
     * GiftKit's dead-letter contract ({@code acks=all}, idempotence, the timeouts of
     * {@link #deadLetterTimeout}). Use it for what only the producer needs, or to override.
     *
     * @param config Kafka producer settings; not the serializers (dead letters are the record's bytes)
     * @return this builder
     * @throws io.giftkit.core.InvalidConfigException if it sets a serializer
     */
    public Builder<K, V> deadLetterProducerConfig(Map<String, ?> config) {
      Checks.requireNonNull("deadLetterProducerConfig", config);
      for (String serializer : List.of(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG)) {
        if (config.containsKey(serializer)) {
          throw Checks.invalid("deadLetterProducerConfig", "must not set " + serializer
              + " (dead letters are the record's bytes)", config.get(serializer));
        }
      }
      dltProducerConfig.putAll(config);
      return this;
    }

    /**
     * @param bytes what a value too large for the dead-letter topic is truncated to (if still too large,
     *     the value is left out; the headers always go); in [1, 10485760]; default 16 KiB
     * @return this builder
     */
    public Builder<K, V> deadLetterMaxValueBytes(int bytes) {
      this.dltMaxValueBytes = (int) Checks.requireInRange("deadLetterMaxValueBytes", bytes, 1, 10 * 1024 * 1024);
      return this;
    }

    /**
     * How a poll loop that died of something unexpected (an exception the loop does not handle, a
     * {@link VirtualMachineError}) is restarted: after {@code firstDelay}, doubling for each restart
     * in a row up to {@code maxDelay}; a loop that ran for at least {@code maxDelay} before dying
     * starts the count again. Meanwhile {@link #state()} is {@link State#RESTARTING}. After
     * {@code maxRestarts} restarts in a row, or for what a restart cannot fix (a bad configuration,
     * an invalid topic or group id), the consumer is {@link State#FAILED}.
     *
     * @param maxRestarts restarts in a row; 0 never restarts; default no limit
     * @param firstDelay positive; default 1 s
     * @param maxDelay at least {@code firstDelay}; default 30 s
     * @return this builder
     */
    public Builder<K, V> restarts(int maxRestarts, Duration firstDelay, Duration maxDelay) {
      this.maxRestarts = (int) Checks.requireNonNegative("maxRestarts", maxRestarts);
      this.firstRestartDelay = Checks.requirePositive("firstDelay", firstDelay);
      Checks.requirePositive("maxDelay", maxDelay);
      if (maxDelay.compareTo(firstDelay) < 0) {
        throw Checks.invalid("maxDelay", "must be at least firstDelay (" + firstDelay + ")", maxDelay);
      }
      this.maxRestartDelay = maxDelay;
      return this;
    }

    /**
     * Non-blocking retries: a record whose handler fails retryably is published to
     * {@code <topic>.retry-1} (then {@code .retry-2} …, then the dead-letter topic of the original
     * topic) and its partition moves on, instead of being retried in place. The consumer subscribes
     * to the retry topics too and handles each record once it is due. No in-place attempts; then
     * {@link #retries} and {@link #retryBudget} no longer decide handler failures. See {@link RetryTopics}.
     *
     * @param retryTopics the delays; default none (retries in place)
     * @return this builder
     */
    public Builder<K, V> retryTopics(RetryTopics retryTopics) {
      this.retryTopics = Checks.requireNonNull("retryTopics", retryTopics);
      return this;
    }

    /**
     * How each poll's offsets are committed. Synchronously (the default, as in Spring Kafka's
     * listener containers): before the next poll, bounded by 5 s (a commit that does not finish is
     * covered by the next one), so after a crash only the last poll's records come again and a lost
     * membership shows at once. Asynchronously: the next poll does not wait for the broker. Revoked
     * partitions and a closing consumer are always committed synchronously. On the benchmark's
     * in-process broker the asynchronous mode made batch handlers' database round trips about twice as
     * slow (see the module README, Measured).
     *
     * @param sync false for asynchronous commits; default true
     * @return this builder
     */
    public Builder<K, V> syncCommits(boolean sync) {
      this.syncCommits = sync;
      return this;
    }

    /**
     * Adds a listener for the Kafka clients this consumer creates and closes (e.g. to bind their
     * metrics); see {@link KafkaClientListener}.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder<K, V> clientListener(KafkaClientListener listener) {
      clientListeners.add(Checks.requireNonNull("listener", listener));
      return this;
    }

    /**
     * @param filter which records this site handles; default all
     * @return this builder
     */
    public Builder<K, V> siteFilter(SiteFilter filter) {
      this.siteFilter = Checks.requireNonNull("siteFilter", filter);
      return this;
    }

    /**
     * Raises a lag alert for a partition whose lag exceeds {@code maxLag} records or whose oldest
     * record not yet handled is older than {@code maxRecordAge}, continuously for {@code sustainedFor}.
     *
     * @param maxLag records; not negative
     * @param maxRecordAge positive
     * @param sustainedFor not negative
     * @param listener hears alerts and recoveries
     * @return this builder
     */
    public Builder<K, V> lagAlert(long maxLag, Duration maxRecordAge, Duration sustainedFor, LagListener listener) {
      this.maxLag = Checks.requireNonNegative("maxLag", maxLag);
      this.maxAge = Checks.requirePositive("maxRecordAge", maxRecordAge);
      this.sustain = Checks.requireNonNegative("sustainedFor", sustainedFor);
      lagListeners.add(Checks.requireNonNull("listener", listener));
      return this;
    }

    /**
     * Sets the time source for poll budgets, handler deadlines, retry due times and sustained-lag
     * periods (tests pass a fake one; a record's age is wall-clock time, as its timestamp).
     *
     * @param ticker the ticker; default {@link Ticker#system()}
     * @return this builder
     */
    public Builder<K, V> ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
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
        if (topics.contains(t + dltSuffix)) {
          throw Checks.invalid("deadLetterSuffix", "must not make a dead-letter topic equal to a consumed topic",
              dltSuffix);
        }
      }
      if (retryTopics != null) {
        for (String t : topics) {
          for (String r : retryTopics.topicsOf(t)) {
            if (topics.contains(r)) {
              throw Checks.invalid("topics", "must not name a retry topic (retryTopics subscribes to it)", r);
            }
          }
        }
      }
      Object interval = kafka.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
      long maxPollMillis = interval == null ? 300_000 : Long.parseLong(String.valueOf(interval));
      if (maxProcessingTime.toMillis() >= maxPollMillis) {
        throw Checks.invalid("maxProcessingTime", "must be below max.poll.interval.ms (" + maxPollMillis + " ms)",
            maxProcessingTime);
      }
      Checks.requireNonNull("deserializers", keyDeserializer);
      Checks.requireNonNull("handler", dispatch);
      return new GiftkitConsumer<>(this);
    }
  }
}
