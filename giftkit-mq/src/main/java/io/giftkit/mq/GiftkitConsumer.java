package io.giftkit.mq;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.CommitFailedException;
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
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 * record holds back the records behind it in its partition for at most its retries.
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
 * <p>Size: about 1,500 lines, past the house limit of ~400, because the poll loop, commit tracking,
 * handler invocation, dead-lettering and lag tracking still live here as inner classes; supervision
 * ({@code Supervisor}), retry decisions ({@code RetryPolicy}, {@code FailureClassifier}) and the
 * dead-letter producer's settings ({@code DeadLetterProducerConfig}) are package-private parts of
 * their own. Splitting the rest is open work (issue 16, item 8).
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

  /** Handles a partition's records from one poll, in offset order. */
  @FunctionalInterface
  public interface BatchHandler<K, V> {
    /**
     * @param records one partition's records, in offset order, never empty
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

  /** Handles a partition's new records from one poll inside one transaction with their claims. */
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

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);
  private static final int MAX_MESSAGE = 1_000;
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** The handler in its general form: returns how many of the records were duplicates. */
  @FunctionalInterface
  private interface Dispatch<K, V> {
    int handle(List<ConsumerRecord<K, V>> records) throws Exception;
  }

  private final String name;
  private final String group;
  private final Map<String, Object> consumerConfig;
  private final Map<String, Object> producerConfig;
  private final List<String> topics;
  private final Deserializer<K> keyDeserializer;
  private final Deserializer<V> valueDeserializer;
  private final Dispatch<K, V> dispatch;
  private final boolean batch;
  private final int concurrency;
  private final RetryPolicy retryPolicy;
  private final String dltSuffix;
  private final Duration dltTimeout;
  private final int dltMaxValueBytes;
  private final long maxProcessingNanos;
  private final SiteFilter siteFilter;
  private final long maxLag;
  private final long maxAgeMillis;
  private final long sustainNanos;
  private final Listeners<LagListener> lagListeners;
  private final Map<TopicPartition, PartitionLag> lagView = new ConcurrentHashMap<>();
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final LongAdder handled = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder filtered = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder deadLetterFailures = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder batchFailures = new LongAdder();
  private final LongAdder lagAlerts = new LongAdder();
  private final LongAdder membershipLosses = new LongAdder();
  private final LongAdder budgetCuts = new LongAdder();
  private final long pollBudgetNanos;
  private final AtomicInteger alive = new AtomicInteger();
  private final AtomicInteger restarting = new AtomicInteger();
  private final AtomicReference<RuntimeException> injectedLoopFailure = new AtomicReference<>();
  private final Supervisor supervisor;
  private volatile boolean running;
  private final List<Worker> workers = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;

  private GiftkitConsumer(Builder<K, V> b) {
    this.name = b.name;
    this.group = String.valueOf(b.kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
    this.topics = List.copyOf(b.topics);
    this.keyDeserializer = b.keyDeserializer;
    this.valueDeserializer = b.valueDeserializer;
    this.dispatch = b.dispatch;
    this.batch = b.batch;
    this.concurrency = b.concurrency;
    this.retryPolicy = new RetryPolicy(new FailureClassifier(b.nonRetryable, b.transientFailures), b.maxAttempts,
        b.backoff.toNanos(), b.maxBackoff.toNanos(), b.retryBudget.toNanos());
    this.dltSuffix = b.dltSuffix;
    this.dltTimeout = b.dltTimeout;
    this.dltMaxValueBytes = b.dltMaxValueBytes;
    this.maxProcessingNanos = b.maxProcessingTime.toNanos();
    Object interval = b.kafka.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
    long maxPollNanos = TimeUnit.MILLISECONDS.toNanos(interval == null ? 300_000 : Long.parseLong(String.valueOf(interval)));
    // no handler call starts after this much of a poll's batch: the last one (at most maxProcessingTime)
    // still ends well before max.poll.interval.ms
    this.pollBudgetNanos = Math.max(0, (maxPollNanos - maxProcessingNanos) / 2);
    this.siteFilter = b.siteFilter;
    this.supervisor = new Supervisor(b.name, b.maxRestarts, b.firstRestartDelay, b.maxRestartDelay);
    this.maxLag = b.maxLag;
    this.maxAgeMillis = b.maxAge.toMillis();
    this.sustainNanos = b.sustain.toNanos();
    this.lagListeners = Listeners.create("consumer '" + b.name + "' lag");
    b.lagListeners.forEach(lagListeners::add);
    Map<String, Object> c = new HashMap<>(b.kafka);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.consumerConfig = c;
    this.producerConfig = DeadLetterProducerConfig.of(b.kafka, b.dltProducerConfig, b.dltTimeout);
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

  /** Starts polling, on {@code concurrency} threads of its own. */
  public synchronized void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("consumer '" + name + "' was already started (state " + state.get() + ")");
    }
    producer = new KafkaProducer<>(producerConfig);
    running = true;
    for (int i = 0; i < concurrency; i++) {
      workers.add(new Worker(new KafkaConsumer<>(consumerConfig), i, 0));
    }
    alive.set(workers.size());
    for (Worker w : workers) {
      w.thread.start();
    }
  }

  /** @return the lifecycle state */
  public State state() {
    return state.get();
  }

  /** @return why a loop died last (restarted or not), if one did */
  public Throwable failure() {
    return failure.get();
  }

  /** @return poll loops restarted (or waiting for their restart) after they died */
  public long restarts() {
    return supervisor.restarts();
  }

  /** @return the dead-letter producer's effective settings (for tests) */
  Map<String, Object> deadLetterProducerConfig() {
    return producerConfig;
  }

  /** Test hook: the next poll loop to poll throws this, as if it died of it. */
  void failPollLoopOnce(RuntimeException failure) {
    injectedLoopFailure.set(failure);
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
    return handled.sum();
  }

  /**
   * @return times this consumer lost partitions without committing (evicted from the group, e.g. a
   *     batch outlived {@code max.poll.interval.ms}, or partitions lost); it rejoined each time
   */
  public long membershipLosses() {
    return membershipLosses.sum();
  }

  /**
   * @return times a poll's batch was cut short so that the next poll comes within
   *     {@code max.poll.interval.ms} (the rest is polled again, from its offset)
   */
  public long budgetCuts() {
    return budgetCuts.sum();
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

  /** @return handler calls interrupted for exceeding the max processing time */
  public long timeouts() {
    return timeouts.sum();
  }

  /** @return batches that failed and were handled again one record at a time */
  public long batchFailures() {
    return batchFailures.sum();
  }

  /** @return lag alerts raised */
  public long lagAlerts() {
    return lagAlerts.sum();
  }

  /** @return the lag of every partition this consumer has handled records of, and still owns */
  public List<PartitionLag> lag() {
    return List.copyOf(lagView.values());
  }

  /** Stops polling after the records in hand, commits what was done, and closes. Waits up to 30 s. */
  @Override
  public void close() {
    running = false;
    for (Runnable notStarted : supervisor.close()) {
      notStarted.run(); // sees running == false: settles the slot instead of restarting it
    }
    List<Worker> ws;
    synchronized (this) {
      ws = List.copyOf(workers);
    }
    for (Worker w : ws) {
      w.consumer.wakeup();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Worker w : ws) {
      if (w.thread != Thread.currentThread()) {
        try {
          w.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
  }

  private void workerExited(Worker w, Throwable died) {
    if (died != null) {
      slotDied(w.slot, w.inARow, System.nanoTime() - w.startedNanos, w.recovering, w.thread.getName(), died);
    } else {
      slotExited();
    }
  }

  /** A slot's poll loop died (or its restart could not even build the Kafka consumer): restart it, or FAILED. */
  private void slotDied(int slot, int inARowBefore, long ranNanos, boolean recovering, String thread,
      Throwable died) {
    failure.set(died);
    int inARow = running ? supervisor.next(died, inARowBefore, ranNanos) : -1;
    if (inARow > 0) {
      if (!recovering) {
        restarting.incrementAndGet();
      }
      state.compareAndSet(State.RUNNING, State.RESTARTING);
      long delayMs = TimeUnit.NANOSECONDS.toMillis(supervisor.delayNanos(inARow));
      LOG.error("GiftKit consumer '{}': the poll loop {} died; restarting it in {} ms (restart {} in a row)", name,
          thread, delayMs, inARow, died);
      supervisor.schedule(inARow, () -> restart(slot, inARow));
      return; // the slot stays alive
    }
    if (recovering) {
      restarting.decrementAndGet();
    }
    state.set(State.FAILED);
    LOG.error("GiftKit consumer '{}': the poll loop {} died{}; the consumer is FAILED", name, thread,
        Supervisor.restartable(died) ? (running ? " and its restarts in a row ran out" : " while closing")
            : " of what a restart cannot fix", died);
    slotExited();
  }

  private void slotExited() {
    if (alive.decrementAndGet() == 0) {
      state.compareAndSet(State.RUNNING, State.STOPPED);
      state.compareAndSet(State.RESTARTING, State.STOPPED);
      producer.close(Duration.ofSeconds(10));
    }
  }

  /** Replaces the dead worker of {@code slot} (the supervisor's thread). */
  private void restart(int slot, int inARow) {
    synchronized (this) {
      if (running) {
        Worker w;
        try {
          w = new Worker(new KafkaConsumer<>(consumerConfig), slot, inARow);
        } catch (RuntimeException | Error e) {
          slotDied(slot, inARow, 0, true, "restart of slot " + slot, e); // another death in a row
          return;
        }
        w.recovering = true;
        workers.set(slot, w);
        w.thread.start();
        return;
      }
    }
    restarting.decrementAndGet();
    slotExited();
  }

  private void recovered() {
    if (restarting.decrementAndGet() == 0) {
      state.compareAndSet(State.RESTARTING, State.RUNNING);
    }
  }

  /** A record being retried: its offset, tries so far, when to try again, and whether only the DLT publish is left. */
  private static final class Retry {
    final long offset;
    int attempts;
    long retryAt;
    long firstFailedAt; // System.nanoTime() of the first failure
    Throwable lastError;
    boolean deadLetterOnly;

    Retry(long offset) {
      this.offset = offset;
    }
  }

  /** Lag bookkeeping of one partition; its worker's thread only. */
  private static final class Track {
    long next = -1; // the next offset to handle
    long end = -1; // the partition's end offset, as last seen
    long headTimestamp = -1; // the timestamp of the record in hand, while one is
    long overSince = -1;
    boolean alerting;
  }

  /** A handler call that exceeded the max processing time (and was interrupted). */
  private static final class HandlerTimeoutException extends Exception {
    private static final long serialVersionUID = 1L;

    HandlerTimeoutException(String message) {
      super(message);
    }
  }

  /** One Kafka consumer and its poll loop. */
  private final class Worker {
    final KafkaConsumer<byte[], byte[]> consumer;
    final Thread thread;
    final String threadName;
    final int slot;
    final int inARow; // restarts of this slot in a row before this worker
    final long startedNanos = System.nanoTime();
    volatile boolean recovering; // a restart that has not polled yet
    final Map<TopicPartition, Retry> retries = new HashMap<>();
    final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    final Map<TopicPartition, Track> tracks = new HashMap<>();
    ExecutorService executor;
    int executors;
    long pollDeadline;

    Worker(KafkaConsumer<byte[], byte[]> consumer, int slot, int inARow) {
      this.consumer = consumer;
      this.slot = slot;
      this.inARow = inARow;
      this.threadName = "giftkit-consumer-" + name + (concurrency == 1 ? "" : "-" + slot)
          + (inARow == 0 ? "" : "-r" + supervisor.restarts());
      this.thread = new Thread(this::loop, threadName);
      this.executor = newExecutor();
    }

    private ExecutorService newExecutor() {
      String n = threadName.replace("giftkit-consumer-", "giftkit-handler-") + (executors++ == 0 ? "" : "-" + executors);
      return Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, n);
        t.setDaemon(true);
        return t;
      });
    }

    void loop() {
      Throwable died = null;
      try {
        consumer.subscribe(topics, new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            try {
              commitSync(partitions);
            } catch (CommitFailedException | RebalanceInProgressException | FencedInstanceIdException e) {
              // The membership went while we were busy (e.g. a batch outlived max.poll.interval.ms): the
              // offsets cannot be committed. The records are handled again by the partition's next owner;
              // handlers are idempotent. The consumer rejoins on its next poll.
              membershipLost(partitions, e);
              return;
            }
            forget(partitions);
          }

          @Override
          public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Not onPartitionsRevoked's default: the partitions are someone else's already, a commit
            // would fail (CommitFailedException) and kill the poll loop.
            membershipLost(partitions, null);
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
          RuntimeException injected = injectedLoopFailure.getAndSet(null);
          if (injected != null) {
            throw injected;
          }
          if (recovering) {
            recovering = false;
            recovered();
          }
          observePoll(records);
          pollDeadline = System.nanoTime() + pollBudgetNanos;
          boolean first = true; // every poll makes progress, however small the budget
          for (TopicPartition tp : records.partitions()) {
            if (!running) {
              break;
            }
            List<ConsumerRecord<byte[], byte[]>> raws = records.records(tp);
            if (!first && System.nanoTime() - pollDeadline >= 0) {
              consumer.seek(tp, raws.get(0).offset()); // out of time for this poll: polled again next time
              budgetCuts.increment();
              continue;
            }
            processPartition(tp, raws);
            first = false;
          }
          checkLag();
          if (!pending.isEmpty()) {
            consumer.commitAsync(new HashMap<>(pending), (offsets, e) -> {
              if (e != null) {
                LOG.warn("GiftKit consumer '{}': async commit failed ({}); the next commit covers it", name,
                    e.toString());
              }
            });
          }
        }
        try {
          try {
            commitSync(null);
          } catch (WakeupException pendingWakeup) {
            commitSync(null); // close() woke the consumer after its last poll: the wake-up is spent, commit again
          }
        } catch (CommitFailedException | RebalanceInProgressException | FencedInstanceIdException e) {
          LOG.warn("GiftKit consumer '{}': the final commit failed ({}); the partitions' next owner handles the"
              + " uncommitted records again", name, e.toString());
        }
      } catch (Throwable t) {
        died = t;
        if (t instanceof VirtualMachineError) {
          throw (VirtualMachineError) t;
        }
      } finally {
        executor.shutdownNow();
        try {
          consumer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
          LOG.warn("GiftKit consumer '{}': closing the Kafka consumer failed", name, e);
        }
        workerExited(this, died);
      }
    }

    private void forget(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        retries.remove(tp);
        tracks.remove(tp);
        lagView.remove(tp);
      }
    }

    private void membershipLost(Collection<TopicPartition> partitions, RuntimeException why) {
      membershipLosses.increment();
      int dropped = 0;
      for (TopicPartition tp : partitions) {
        if (pending.remove(tp) != null) {
          dropped++;
        }
      }
      forget(partitions);
      LOG.warn("GiftKit consumer '{}': lost partitions {} without committing ({}); {} partition(s) had handled"
          + " records not yet committed, to be handled again by their next owner; rejoining", name, partitions,
          why == null ? "the group membership was lost" : why.toString(), dropped);
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

    /** Handles one partition's records from a poll: in batches when the handler takes them, else one at a time. */
    private void processPartition(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> raws) {
      int i = 0;
      int singleUntil = batch ? 0 : raws.size();
      List<ConsumerRecord<K, V>> records = new ArrayList<>();
      while (i < raws.size() && running) {
        if (i > 0 && System.nanoTime() - pollDeadline >= 0) {
          // The whole poll batch, not one handler call, must fit in max.poll.interval.ms: stop here,
          // commit what is done, poll (keeping the membership) and take the rest from this offset.
          consumer.seek(tp, raws.get(i).offset());
          budgetCuts.increment();
          return;
        }
        if (i >= singleUntil && !retries.containsKey(tp)) {
          records.clear();
          int end = collectBatch(raws, i, records);
          if (end > i) {
            if (handleBatch(tp, records, raws.subList(i, end))) {
              i = end;
              continue;
            }
            singleUntil = end; // the batch failed: find the failing record one at a time
          }
        }
        ConsumerRecord<byte[], byte[]> raw = raws.get(i);
        if (!processOne(tp, raw)) {
          consumer.seek(tp, raw.offset());
          consumer.pause(List.of(tp));
          return;
        }
        done(tp, raw);
        i++;
      }
    }

    /**
     * Collects the run of records from {@code from} that can go to the handler as one batch (the site
     * filter's accepted ones, deserialized, into {@code out}); stops before a record that cannot be
     * deserialized, which is then handled on its own (dead-lettered).
     *
     * @return the end of the run
     */
    private int collectBatch(List<ConsumerRecord<byte[], byte[]>> raws, int from, List<ConsumerRecord<K, V>> out) {
      int end = from;
      while (end < raws.size()) {
        ConsumerRecord<byte[], byte[]> raw = raws.get(end);
        if (siteFilter.accepts(SiteHeaders.text(raw.headers(), SiteHeaders.SITE))) {
          try {
            out.add(deserialize(raw));
          } catch (RuntimeException | Error poison) {
            rethrowIfFatal(poison);
            break;
          }
        }
        end++;
      }
      return end;
    }

    private boolean handleBatch(TopicPartition tp, List<ConsumerRecord<K, V>> records,
        List<ConsumerRecord<byte[], byte[]>> raws) {
      if (!records.isEmpty()) {
        try {
          int dups = invoke(tp, List.copyOf(records));
          duplicates.add(dups);
          handled.add(records.size() - dups);
        } catch (Exception | Error e) {
          rethrowIfFatal(e);
          batchFailures.increment();
          LOG.debug("GiftKit consumer '{}': a batch of {} records of {} failed; handling them one at a time", name,
              records.size(), tp, e);
          return false;
        }
      }
      filtered.add(raws.size() - records.size());
      done(tp, raws.get(raws.size() - 1));
      return true;
    }

    private void done(TopicPartition tp, ConsumerRecord<byte[], byte[]> last) {
      pending.put(tp, new OffsetAndMetadata(last.offset() + 1));
      Track t = tracks.computeIfAbsent(tp, k -> new Track());
      t.next = last.offset() + 1;
      t.headTimestamp = -1;
    }

    /** Runs the handler on the helper thread, bounded by the max processing time, checking lag meanwhile. */
    private int invoke(TopicPartition tp, List<ConsumerRecord<K, V>> records) throws Exception {
      Track track = tracks.computeIfAbsent(tp, k -> new Track());
      track.headTimestamp = records.get(0).timestamp();
      if (track.next < 0) {
        track.next = records.get(0).offset();
      }
      Future<Integer> f = executor.submit(() -> dispatch.handle(records));
      long deadline = System.nanoTime() + maxProcessingNanos;
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          f.cancel(true);
          timeouts.increment();
          executor.shutdownNow();
          executor = newExecutor(); // a handler that ignores the interrupt keeps only its own thread
          throw new HandlerTimeoutException("the handler took longer than maxProcessingTime ("
              + TimeUnit.NANOSECONDS.toMillis(maxProcessingNanos) + " ms) on " + records.size()
              + " record(s) from " + tp + "@" + records.get(0).offset() + "; it was interrupted");
        }
        try {
          return f.get(Math.min(left, SLICE_NANOS), TimeUnit.NANOSECONDS);
        } catch (TimeoutException stillRunning) {
          checkLag();
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof Exception) {
            throw (Exception) cause;
          }
          if (cause instanceof Error) {
            throw (Error) cause;
          }
          throw e;
        } catch (InterruptedException e) {
          f.cancel(true);
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }

    /** @throws RuntimeException what the deserializer threw: the record is poison */
    private ConsumerRecord<K, V> deserialize(ConsumerRecord<byte[], byte[]> raw) {
      return new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.timestamp(),
          raw.timestampType(), raw.serializedKeySize(), raw.serializedValueSize(),
          raw.key() == null ? null : keyDeserializer.deserialize(raw.topic(), raw.headers(), raw.key()),
          raw.value() == null ? null : valueDeserializer.deserialize(raw.topic(), raw.headers(), raw.value()),
          raw.headers(), raw.leaderEpoch());
    }

    /** Handles one record; false means "not done: seek back and pause its partition". */
    private boolean processOne(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw) {
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
        record = deserialize(raw);
      } catch (RuntimeException | Error poison) {
        rethrowIfFatal(poison);
        return deadLetter(tp, raw, poison, 0, retry == null ? newRetry(tp, raw) : retry);
      }
      try {
        int dups = invoke(tp, List.of(record));
        (dups == 0 ? handled : duplicates).increment();
        retries.remove(tp);
        return true;
      } catch (Exception | Error e) {
        rethrowIfFatal(e); // any other Error (AssertionError, a LinkageError …) is this record's failure
        Retry r = retry == null ? newRetry(tp, raw) : retry;
        long now = System.nanoTime();
        if (r.attempts++ == 0) {
          r.firstFailedAt = now;
        }
        r.lastError = e;
        long delay = retryPolicy.nextDelayNanos(e, r.attempts, now - r.firstFailedAt);
        if (delay < 0) {
          return deadLetter(tp, raw, e, r.attempts, r);
        }
        retried.increment();
        r.retryAt = now + delay;
        LOG.debug("GiftKit consumer '{}': {}-{}@{} failed (attempt {}, {}); retrying in {} ms", name, raw.topic(),
            raw.partition(), raw.offset(), r.attempts, retryPolicy.kind(e), TimeUnit.NANOSECONDS.toMillis(delay), e);
        return false;
      }
    }

    private Retry newRetry(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw) {
      Retry r = new Retry(raw.offset());
      retries.put(tp, r);
      return r;
    }

    private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts,
        Retry retry) {
      RecordHeaders headers = deadLetterHeaders(raw, error, attempts);
      String dlt = raw.topic() + dltSuffix;
      try {
        try {
          send(new ProducerRecord<>(dlt, null, raw.timestamp(), raw.key(), raw.value(), headers));
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof RecordTooLargeException) || raw.value() == null) {
            throw e;
          }
          byte[] value = raw.value().length > dltMaxValueBytes ? Arrays.copyOf(raw.value(), dltMaxValueBytes) : null;
          headers.add(DLT_TRUNCATED, utf8(Integer.toString(raw.value().length)));
          LOG.warn("GiftKit consumer '{}': {}-{}@{} is too large for {}; dead-lettering it with its value {}", name,
              raw.topic(), raw.partition(), raw.offset(), dlt,
              value == null ? "left out" : "truncated to " + dltMaxValueBytes + " bytes");
          try {
            send(new ProducerRecord<>(dlt, null, raw.timestamp(), raw.key(), value, headers));
          } catch (ExecutionException stillTooLarge) {
            if (!(stillTooLarge.getCause() instanceof RecordTooLargeException) || value == null) {
              throw stillTooLarge;
            }
            send(new ProducerRecord<>(dlt, null, raw.timestamp(), raw.key(), null, headers));
          }
        }
        deadLettered.increment();
        retries.remove(tp);
        LOG.warn("GiftKit consumer '{}': {}-{}@{} dead-lettered to {} after {} attempt(s): {}", name, raw.topic(),
            raw.partition(), raw.offset(), dlt, attempts, error.toString());
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
            name, raw.topic(), raw.partition(), raw.offset(), dlt, e.toString());
        return false;
      }
    }

    private void send(ProducerRecord<byte[], byte[]> record) throws Exception {
      producer.send(record).get(dltTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    }

    /** Learns each polled partition's end offset (position + the consumer's cached lag). */
    private void observePoll(ConsumerRecords<byte[], byte[]> records) {
      for (TopicPartition tp : consumer.assignment()) {
        List<ConsumerRecord<byte[], byte[]>> got = records.records(tp);
        Track t = tracks.get(tp);
        long fetched;
        if (!got.isEmpty()) {
          if (t == null) {
            t = new Track();
            tracks.put(tp, t);
          }
          if (t.next < 0) {
            t.next = got.get(0).offset();
          }
          fetched = got.get(got.size() - 1).offset() + 1;
        } else if (t != null && t.next >= 0) {
          fetched = t.next; // the position: past everything handled, or sought back to the record being retried
        } else {
          continue;
        }
        java.util.OptionalLong lag = consumer.currentLag(tp);
        if (lag.isPresent() && fetched >= 0) {
          t.end = Math.max(t.end, fetched + lag.getAsLong());
        } else {
          t.end = Math.max(t.end, fetched);
        }
      }
    }

    /** Publishes each partition's lag and fires alerts and recoveries. */
    private void checkLag() {
      if (tracks.isEmpty()) {
        return;
      }
      long nowNanos = System.nanoTime();
      long nowMillis = System.currentTimeMillis();
      for (Map.Entry<TopicPartition, Track> e : tracks.entrySet()) {
        TopicPartition tp = e.getKey();
        Track t = e.getValue();
        long lag = t.next < 0 || t.end < 0 ? 0 : Math.max(0, t.end - t.next);
        long age = lag > 0 && t.headTimestamp >= 0 ? Math.max(0, nowMillis - t.headTimestamp) : 0;
        boolean over = lag > maxLag || age > maxAgeMillis;
        if (over && t.overSince < 0) {
          t.overSince = nowNanos;
        } else if (!over) {
          t.overSince = -1;
        }
        boolean fire = false;
        if (over && !t.alerting && nowNanos - t.overSince >= sustainNanos) {
          t.alerting = true;
          fire = true;
        } else if (!over && t.alerting) {
          t.alerting = false;
          fire = true;
        }
        PartitionLag view = new PartitionLag(tp.topic(), tp.partition(), lag, age, t.alerting);
        lagView.put(tp, view);
        if (fire && view.alerting()) {
          lagAlerts.increment();
          LOG.warn("GiftKit consumer '{}': {} is behind: lag {} (threshold {}), oldest record {} ms old (threshold {})",
              name, tp, lag, maxLag, age, maxAgeMillis);
          lagListeners.fire(l -> l.onLagAlert(view));
        } else if (fire) {
          LOG.info("GiftKit consumer '{}': {} caught up: lag {}, oldest record {} ms old", name, tp, lag, age);
          lagListeners.fire(l -> l.onLagRecovered(view));
        }
      }
    }
  }

  /**
   * Lets a {@link VirtualMachineError} (out of memory, stack overflow, an internal error) through: it
   * stops the worker. Every other {@link Error} a deserializer or handler throws is contained as that
   * record's failure, so one poison record cannot stop the group.
   */
  static void rethrowIfFatal(Throwable t) {
    if (t instanceof VirtualMachineError) {
      throw (VirtualMachineError) t;
    }
  }

  private long backoff(int attempts) {
    return retryPolicy.backoff(attempts);
  }

  private RecordHeaders deadLetterHeaders(ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts) {
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
    return headers;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "GiftkitConsumer{name=" + name + ", group=" + group + ", topics=" + topics + ", concurrency="
        + concurrency + ", state=" + state.get() + "}";
  }

  /** Keeps, of records with the same key, the first; the rest are duplicates within the batch. */
  private static <K, V> Map<String, ConsumerRecord<K, V>> firstByKey(List<ConsumerRecord<K, V>> records,
      Function<ConsumerRecord<K, V>, String> keyOf) {
    Map<String, ConsumerRecord<K, V>> byKey = new LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : records) {
      String key = keyOf.apply(r);
      if (key == null || key.isEmpty()) {
        throw new IllegalArgumentException("the idempotency key of " + r.topic() + "-" + r.partition() + "@"
            + r.offset() + " is " + (key == null ? "null" : "empty"));
      }
      byKey.putIfAbsent(key, r);
    }
    return byKey;
  }

  /** The records whose key was newly claimed, in offset order. */
  private static <K, V> List<ConsumerRecord<K, V>> claimed(Map<String, ConsumerRecord<K, V>> byKey, Set<String> fresh) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>(fresh.size());
    for (Map.Entry<String, ConsumerRecord<K, V>> e : byKey.entrySet()) {
      if (fresh.contains(e.getKey())) {
        out.add(e.getValue());
      }
    }
    return out;
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
    private Deserializer<K> keyDeserializer;
    private Deserializer<V> valueDeserializer;
    private Dispatch<K, V> dispatch;
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
      Checks.requireNonNull("handler", handler);
      return use(false, records -> {
        handler.handle(records.get(0));
        return 0;
      });
    }

    /** @param handler handles each partition's records from a poll (no idempotency) @return this builder */
    public Builder<K, V> batchHandler(BatchHandler<K, V> handler) {
      Checks.requireNonNull("handler", handler);
      return use(true, records -> {
        handler.handle(records);
        return 0;
      });
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
     * Handles each partition's records from a poll in one database transaction that first claims all
     * their business keys in one statement ({@link IdempotencyStore#claimAll}): records whose key was
     * claimed before (or repeats within the batch) are skipped as duplicates; the claims and the
     * handler's writes commit together. The fast form: one transaction per batch, not per record.
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
      return use(batch, records -> {
        String group = String.valueOf(kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
        Map<String, ConsumerRecord<K, V>> byKey = firstByKey(records, keyOf);
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          try {
            List<ConsumerRecord<K, V>> toHandle = claimed(byKey, store.claimAll(c, group, byKey.keySet()));
            if (!toHandle.isEmpty()) {
              handler.handle(toHandle, c);
            }
            c.commit();
            return records.size() - toHandle.size();
          } catch (Exception | Error e) {
            c.rollback();
            throw e;
          }
        }
      });
    }

    /**
     * Handles records whose business key is new in a {@link RedisIdempotencyStore}: keys are claimed
     * ({@code SET NX}) for a poll's partition batch at once, pipelined; records whose key was applied
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
      return use(true, records -> {
        String group = String.valueOf(kafka.get(ConsumerConfig.GROUP_ID_CONFIG));
        Map<String, ConsumerRecord<K, V>> byKey = firstByKey(records, keyOf);
        RedisIdempotencyStore.Claims claims = store.claimAll(group, byKey.keySet());
        List<ConsumerRecord<K, V>> toHandle = claimed(byKey, claims.fresh());
        try {
          if (!toHandle.isEmpty()) {
            handler.handle(toHandle);
          }
        } catch (Exception | Error e) {
          claims.release();
          throw e;
        }
        claims.complete();
        return records.size() - toHandle.size();
      });
    }

    private Builder<K, V> use(boolean batch, Dispatch<K, V> dispatch) {
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

    /** @param filter which records this site handles; default all @return this builder */
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
