package io.giftkit.mq.outbox;

import io.giftkit.core.Checks;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the rows an {@link Outbox} wrote to Kafka and deletes them once the broker acknowledged
 * them: one daemon thread per source database (shard), one idempotent producer for all.
 *
 * <pre>{@code
 * OutboxRelay relay = OutboxRelay.builder("gift-events-relay", outbox)
 *     .source("shard-0", dataSource0)
 *     .source("shard-1", dataSource1)
 *     .producerConfig(Map.of("bootstrap.servers", brokers))
 *     .build();
 * relay.start();
 * ...
 * relay.wakeUp("shard-1");     // after a commit: look now rather than at the next poll
 * relay.close();
 * }</pre>
 *
 * <p><b>One owner per source.</b> Each source database holds an owner table ({@link
 * Outbox#ownerTable()}, created by {@link Outbox#createTable}) with one row: which relay publishes that
 * database's outbox, and until when. A source loop takes the table when nobody owns it or the last
 * owner's lease ended, with one conditional {@code UPDATE} (a compare-and-set), and renews its lease
 * with the same statement once half of it is gone: one statement per 15 s with the default 30 s
 * {@code lease}, not one per batch. Of several relays on one table (several application instances),
 * one owns it and publishes; the others stand by and look every tenth of the lease (3 s). A closing
 * owner releases its tables, and a stand-by takes them over at its next look; a crashed owner's tables
 * are taken over when its lease ends. {@link #wakeUp} only speeds up the owner: rows committed on a
 * stand-by instance are published at the owner's next poll.
 *
 * <p><b>The loop, per source, while owning.</b> Select up to {@code batchSize} (200) due rows ({@code
 * available_at <= now}) by id with their payloads, in one statement, and send them in id order; wait
 * for every acknowledgement (at most 90% of the lease, and never past the ownership); {@code DELETE}
 * the acknowledged rows in one statement; give the failed ones {@code attempts + 1} and {@code
 * available_at = now + backoff(attempts)}, and the ones still unacknowledged at the end of the wait
 * {@code available_at = now + lease/2} (their sends have ended by then), and back the loop off
 * (exponential from {@code retryBackoff}'s initial value, 200 ms, to its cap, 5 s; wake-ups do not cut
 * a back-off short, so a broker outage is no hot loop, and it logs one WARN line per 10 s at most,
 * never payloads nor the producer configuration). A full batch is followed by the next at once,
 * otherwise the loop waits {@code pollInterval} (200 ms) or until {@link #wakeUp}. No database
 * connection or transaction is held while waiting for the broker. Each source has its own thread and
 * back-off, so one shard's database being down does not slow the others. Per batch that is two
 * statements and one commit (the delete), as in a hand-written single-instance relay.
 *
 * <p><b>Guarantee.</b> Every committed row is published at least once, as long as a relay eventually
 * runs against its database and the broker accepts the record; rows of rolled-back transactions never
 * are (they never existed); a broker outage never fails nor blocks the writer ({@link Outbox#add} does
 * not touch Kafka). If the relay dies after the broker acknowledged a row but before the row was
 * deleted (or the delete fails), the row is sent again by the next owner: consumers must be idempotent
 * (GiftKit's consumers are). With no failures and clocks well within the lease, no row is sent twice,
 * also with several relays on one table. An owner paused past its lease (a stop-the-world pause, a
 * frozen VM) may send a batch that its successor sends too: at least once still holds.
 *
 * <p><b>Order.</b> One relay sends the rows of one source in id order, and Kafka's idempotent producer
 * keeps that order per partition. After failures, take-overs or parking, re-sent rows may arrive after
 * later ones: order across retries is not guaranteed.
 *
 * <p><b>Rows Kafka refuses.</b> A failed send counts as the row's own fault when Kafka says it is not
 * retriable (e.g. {@code RecordTooLargeException}, an invalid topic) or when the broker acknowledged
 * another record of this relay while this row's send was under way (e.g. an unknown topic while others
 * work). A row whose own fault it was on its {@code maxAttempts}-th (10) failed send is <em>parked</em>:
 * kept in the table with {@code available_at =} {@link Outbox#PARKED} and {@code claimed_by =
 * 'parked:<error class>'}, never due again, logged and counted ({@link #parked()}); nothing is deleted.
 * {@link Outbox#parkedRows} counts them and {@link Outbox#retryParked} makes them due again once the
 * cause is fixed. A broker outage or a security misconfiguration (every send fails alike) never parks a
 * row: its rows are retried with back-off until the broker takes them.
 *
 * <p><b>Producer.</b> Built at {@link #start()} from {@code producerConfig}, with {@code acks=all},
 * {@code enable.idempotence=true} and byte-array serializers forced (conflicting values are refused by
 * {@link Builder#build()}). Unless given, {@code max.block.ms} is lease/4 and {@code delivery.timeout.ms}
 * lease/2 (and {@code request.timeout.ms} fits below it); their sum must stay below the lease, so that a
 * send has ended before another relay may take the row over.
 *
 * <p>Thread-safe. {@link #start()} and {@link #close()} block (close waits for the batch in hand, at most
 * the lease plus 10 s); {@link #wakeUp} and the counters never block; {@link #pending()} runs one count
 * per source.
 *
 * <p>Size: past the house limit of ~400 lines (268 of them code) because of its nested {@link Builder}
 * (the type users name, each knob with its rule and default) and this class comment, the relay's user
 * guide. The loop itself is {@code SourceRelay}, the statements {@code OutboxTable}.
 */
public final class OutboxRelay implements AutoCloseable {

  /** The relay's lifecycle. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Relaying. */
    RUNNING,
    /** Closed. */
    STOPPED
  }

  /** Default rows read per look. */
  public static final int DEFAULT_BATCH_SIZE = 200;
  /** Default wait between looks when there was nothing (or less than a batch) to send. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(200);
  /** Default ownership lease. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
  /** Default first back-off after a failure. */
  public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(200);
  /** Default longest back-off. */
  public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(5);
  /** Default failed sends (the row's own fault) before a row is parked. */
  public static final int DEFAULT_MAX_ATTEMPTS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
  private static final String BYTES = ByteArraySerializer.class.getName();
  private static final long CLOSE_PRODUCER_SECONDS = 10;

  private final String name;
  private final Outbox outbox;
  private final Map<String, Object> producerConfig;
  private final Map<String, SourceRelay> sources = new LinkedHashMap<>();
  private final Duration lease;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final AtomicLong lastAckNanos = new AtomicLong(System.nanoTime());
  private final LongAdder published = new LongAdder();
  private final LongAdder sendFailures = new LongAdder();
  private final LongAdder databaseErrors = new LongAdder();
  private final LongAdder parked = new LongAdder();
  private final Builder builder;
  private volatile Producer<byte[], byte[]> producer;

  private OutboxRelay(Builder b, Map<String, Object> producerConfig) {
    this.name = b.name;
    this.outbox = b.outbox;
    this.producerConfig = producerConfig;
    this.lease = b.lease;
    this.builder = b;
  }

  /**
   * Starts a builder.
   *
   * @param name the relay's name, for its threads, ownership tokens and log lines; 1 to 100 characters
   * @param outbox the outbox whose table the sources hold
   * @return a new builder
   */
  public static Builder builder(String name, Outbox outbox) {
    Checks.requireNonBlank("name", name);
    if (name.length() > 100) {
      throw Checks.invalid("name", "must be at most 100 characters", name);
    }
    return new Builder(name, Checks.requireNonNull("outbox", outbox));
  }

  /**
   * Builds the producer and starts one daemon thread per source.
   *
   * @throws IllegalStateException if already started or closed
   * @throws org.apache.kafka.common.KafkaException if the producer cannot be built from the configuration
   */
  public synchronized void start() {
    if (state.get() != State.NEW) {
      throw new IllegalStateException("outbox relay '" + name + "' was already started (state " + state.get() + ")");
    }
    Producer<byte[], byte[]> p = new KafkaProducer<>(producerConfig);
    producer = p;
    SourceRelay.Shared shared = new SourceRelay.Shared(name, p, builder.clock, builder.batchSize,
        builder.pollInterval.toNanos(), lease.toMillis(), builder.backoffInitial.toNanos(),
        builder.backoffMax.toNanos(), builder.maxAttempts, lastAckNanos, published, sendFailures, databaseErrors,
        parked);
    builder.sources.forEach((source, dataSource) ->
        sources.put(source, new SourceRelay(source, new OutboxTable(dataSource, outbox), shared)));
    state.set(State.RUNNING);
    for (SourceRelay s : sources.values()) {
      Thread t = new Thread(s, "giftkit-outbox-" + name + "-" + s.source());
      t.setDaemon(true);
      s.start(t);
    }
  }

  /**
   * Makes the source's loop look for rows now instead of at the end of its poll interval (e.g. right
   * after a commit that added a row). Cheap and non-blocking; ignored before {@link #start()}, after
   * {@link #close()} and while the source backs off after a failure.
   *
   * @param source a source's name
   * @throws IllegalArgumentException if no source has that name
   */
  public void wakeUp(String source) {
    SourceRelay s = sources.get(source);
    if (s != null) {
      s.wakeUp();
    } else if (!builder.sources.containsKey(source)) {
      throw Checks.invalid("source", "must be one of " + builder.sources.keySet(), source);
    }
  }

  /**
   * Counts the rows waiting in every source (due, waiting for a retry, or being sent; parked rows
   * excluded): one {@code COUNT} per source. A source whose count fails is skipped and counted in
   * {@link #databaseErrors()}.
   *
   * @return the sum over the sources that answered
   */
  public long pending() {
    long sum = 0;
    for (String source : builder.sources.keySet()) {
      try {
        sum += table(source).pending();
      } catch (SQLException e) {
        databaseErrors.increment();
        LOG.debug("outbox relay '{}': counting the rows of source '{}' failed: {}", name, source, e.toString());
      }
    }
    return sum;
  }

  /**
   * Counts the rows waiting in one source (parked rows excluded).
   *
   * @param source a source's name
   * @return the count
   * @throws SQLException on database failure
   * @throws IllegalArgumentException if no source has that name
   */
  public long pending(String source) throws SQLException {
    if (!builder.sources.containsKey(source)) {
      throw Checks.invalid("source", "must be one of " + builder.sources.keySet(), source);
    }
    return table(source).pending();
  }

  private OutboxTable table(String source) {
    SourceRelay s = sources.get(source);
    return s != null ? s.table() : new OutboxTable(builder.sources.get(source), outbox);
  }

  /**
   * Stops every source loop after the batch in hand (its acknowledged rows are deleted, the others
   * written back), waits for them (at most the lease plus 10 s), then closes the producer (at most 10 s).
   * Each source's table is released, so that a stand-by relay takes it over at once. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (state.getAndSet(State.STOPPED) == State.STOPPED) {
      return;
    }
    sources.values().forEach(SourceRelay::stop);
    long deadline = System.nanoTime() + lease.toNanos() + TimeUnit.SECONDS.toNanos(10);
    try {
      for (SourceRelay s : sources.values()) {
        if (!s.join(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))) {
          LOG.warn("outbox relay '{}': source '{}' did not stop in time; closing the producer under it", name,
              s.source());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Producer<byte[], byte[]> p = producer;
    if (p != null) {
      p.close(Duration.ofSeconds(CLOSE_PRODUCER_SECONDS));
    }
  }

  /** @return the lifecycle state */
  public State state() {
    return state.get();
  }

  /** @return the relay's name */
  public String name() {
    return name;
  }

  /** @return the sources' names, in the order given */
  public List<String> sources() {
    return List.copyOf(builder.sources.keySet());
  }

  /** @return rows the broker acknowledged */
  public long published() {
    return published.sum();
  }

  /** @return failed sends (rows), retried later or parked */
  public long sendFailures() {
    return sendFailures.sum();
  }

  /** @return failed database statements (ownership, reads, deletes, write-backs, counts) */
  public long databaseErrors() {
    return databaseErrors.sum();
  }

  /** @return rows this relay parked after {@code maxAttempts} failed sends that were their own fault */
  public long parked() {
    return parked.sum();
  }

  @Override
  public String toString() { // the producer configuration may hold secrets: never shown
    return "OutboxRelay{name=" + name + ", table=" + outbox.table() + ", sources=" + builder.sources.keySet()
        + ", state=" + state.get() + "}";
  }

  /** Builds an {@link OutboxRelay}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final Outbox outbox;
    private final Map<String, DataSource> sources = new LinkedHashMap<>();
    private Map<String, Object> producerConfig;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration lease = DEFAULT_LEASE;
    private Duration backoffInitial = DEFAULT_BACKOFF_INITIAL;
    private Duration backoffMax = DEFAULT_BACKOFF_MAX;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, Outbox outbox) {
      this.name = name;
      this.outbox = outbox;
    }

    /**
     * Adds a source database holding the outbox table (e.g. one per shard).
     *
     * @param name the source's name, unique in this relay, 1 to 100 characters
     * @param dataSource the database
     * @return this builder
     */
    public Builder source(String name, DataSource dataSource) {
      Checks.requireNonBlank("source name", name);
      if (name.length() > 100) {
        throw Checks.invalid("source name", "must be at most 100 characters", name);
      }
      Checks.requireNonNull("dataSource", dataSource);
      if (sources.containsKey(name)) {
        throw Checks.invalid("source name", "must be unique", name);
      }
      sources.put(name, dataSource);
      return this;
    }

    /**
     * @param config the Kafka producer configuration ({@code bootstrap.servers} required; security,
     *     interceptors … as needed); copied. {@code acks}, {@code enable.idempotence} and the serializers
     *     are forced, see the class comment
     * @return this builder
     */
    public Builder producerConfig(Map<String, Object> config) {
      Checks.requireNonNull("producerConfig", config);
      this.producerConfig = Collections.unmodifiableMap(new HashMap<>(config));
      return this;
    }

    /**
     * @param batchSize rows read per look; in [1, 1000]; default 200
     * @return this builder
     */
    public Builder batchSize(int batchSize) {
      this.batchSize = (int) Checks.requireInRange("batchSize", batchSize, 1, 1_000);
      return this;
    }

    /**
     * @param interval wait between looks when idle; positive; default 200 ms
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = Checks.requirePositive("pollInterval", interval);
      return this;
    }

    /**
     * @param lease how long a source's ownership lasts unless renewed (renewed at half of it); a dead
     *     owner's tables are taken over after it; at least 1 s; default 30 s
     * @return this builder
     */
    public Builder lease(Duration lease) {
      Checks.requirePositive("lease", lease);
      if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
        throw Checks.invalid("lease", "must be at least 1s", lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * @param initial the first back-off after a failed send or database error, and a failed row's first
     *     retry delay; positive; default 200 ms
     * @param max the cap the back-off doubles up to; at least {@code initial}; default 5 s
     * @return this builder
     */
    public Builder retryBackoff(Duration initial, Duration max) {
      Checks.requirePositive("retryBackoff initial", initial);
      Checks.requirePositive("retryBackoff max", max);
      if (max.compareTo(initial) < 0) {
        throw Checks.invalid("retryBackoff max", "must be at least initial (" + Checks.describe(initial) + ")", max);
      }
      this.backoffInitial = initial;
      this.backoffMax = max;
      return this;
    }

    /**
     * @param maxAttempts failed sends (the row's own fault) before a row is parked; in [1, 1000]; default 10
     * @return this builder
     */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = (int) Checks.requireInRange("maxAttempts", maxAttempts, 1, 1_000);
      return this;
    }

    /**
     * @param clock the wall clock for due times and leases; default UTC system clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Checks.requireNonNull("clock", clock);
      return this;
    }

    /**
     * @return the relay (not started)
     * @throws io.giftkit.core.InvalidConfigException if there is no source, no producer configuration,
     *     no {@code bootstrap.servers}, a forced producer setting is given another value, or the producer's
     *     timeouts do not fit in the lease
     */
    public OutboxRelay build() {
      if (sources.isEmpty()) {
        throw Checks.invalid("sources", "must name at least one source", "none");
      }
      Checks.requireNonNull("producerConfig", producerConfig);
      return new OutboxRelay(this, producerConfig());
    }

    private Map<String, Object> producerConfig() {
      Map<String, Object> c = new HashMap<>(producerConfig);
      if (c.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG) == null
          || c.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG).toString().isBlank()) {
        throw Checks.invalid("producerConfig bootstrap.servers", "must be set", c.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
      }
      force(c, ProducerConfig.ACKS_CONFIG, "all", "all", "-1");
      force(c, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, "true");
      force(c, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class, BYTES);
      force(c, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class, BYTES);
      if (c.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
        throw Checks.invalid("producerConfig transactional.id", "must not be set (the relay's producer is"
            + " idempotent, not transactional)", c.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG));
      }
      long leaseMs = lease.toMillis();
      c.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, leaseMs / 4);
      c.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, leaseMs / 2));
      long maxBlock = millis(c, ProducerConfig.MAX_BLOCK_MS_CONFIG);
      long delivery = millis(c, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
      if (maxBlock + delivery >= leaseMs) {
        throw Checks.invalid("producerConfig max.block.ms + delivery.timeout.ms",
            "must be below lease (" + Checks.describe(lease) + ") so that a send has ended before another relay"
                + " may take its table over", maxBlock + " + " + delivery + " ms");
      }
      if (!c.containsKey(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) {
        long linger = c.containsKey(ProducerConfig.LINGER_MS_CONFIG) ? millis(c, ProducerConfig.LINGER_MS_CONFIG) : 5;
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1, Math.min(30_000, delivery - linger)));
      }
      return Collections.unmodifiableMap(c);
    }

    private static void force(Map<String, Object> c, String key, Object value, Object... accepted) {
      Object given = c.get(key);
      if (given != null) {
        boolean ok = false;
        for (Object a : accepted) {
          ok |= a.equals(given) || a.equals(given.toString()) || (given instanceof Class<?> k && a.equals(k.getName()));
        }
        if (!ok) {
          throw Checks.invalid("producerConfig " + key, "must be " + accepted[0] + " (the relay forces it), or unset",
              given instanceof Class<?> k ? k.getName() : given);
        }
      }
      c.put(key, value);
    }

    private static long millis(Map<String, Object> c, String key) {
      Object v = c.get(key);
      try {
        return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
      } catch (NumberFormatException e) {
        throw Checks.invalid("producerConfig " + key, "must be a number of milliseconds", v);
      }
    }
  }
}
