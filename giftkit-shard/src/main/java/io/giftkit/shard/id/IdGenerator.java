package io.giftkit.shard.id;

import io.giftkit.core.Checks;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unique, time-ordered 63-bit ids, safe across threads, instances, restarts and a wall clock that
 * steps back. A worker id (0 … 1023) is leased from a table in a database that is the single source
 * of truth; the generator issues ids only inside a time range it has reserved in that table.
 *
 * <pre>{@code
 * IdGenerator ids = IdGenerator.builder(dataSource).build();
 * ids.createTable();            // once, idempotent
 * ids.start();                  // claims a worker id; blocks on the database
 * long orderId = ids.nextId();  // no database round trip
 * Instant created = IdGenerator.timestampOf(orderId);   // e.g. to find the order's month table
 * ids.close();
 * }</pre>
 *
 * <h2>Layout</h2>
 *
 * A positive {@code long}: bit 63 is 0, then 41 bits of milliseconds since {@link #EPOCH}
 * (2026-01-01T00:00:00Z, good until 2095), 10 bits of worker id, 12 bits of sequence. Ids of one
 * generator strictly increase; ids of different generators differ in the worker bits.
 *
 * <h2>Why ids are unique</h2>
 *
 * <ul>
 *   <li>The table has one row per worker id: {@code worker_id}, {@code owner}, {@code lease_until},
 *       {@code reserved_until} (epoch ms). {@link #start()} claims a row that is free or whose lease
 *       expired with a conditional UPDATE (a compare-and-set of the row as read); only the instance
 *       whose UPDATE changed the row owns it. The new holder issues only timestamps strictly above
 *       the row's previous {@code reserved_until}.
 *   <li>The holder issues only timestamps at or below the {@code reserved_until} it last wrote
 *       successfully, with an UPDATE conditional on {@code owner = me} and on the reservation it wrote
 *       before. A background daemon thread renews the lease and moves the reservation to {@code
 *       reserveAhead} beyond the logical time, every {@code min(leaseDuration / 3, reserveAhead / 2)}.
 *   <li>So two holders of one worker id never share a timestamp: a takeover starts strictly after
 *       the last reservation the old holder wrote, and an old holder that wakes up late cannot write
 *       again (its conditional UPDATE no longer matches) and stops at its reservation.
 *   <li>Within a process, logical time is {@code max(last issued ms, wall clock)}: it never goes
 *       back. When the 4,096 sequence numbers of a millisecond are used up, the next millisecond is
 *       borrowed, never beyond the reservation. Across restarts, {@link #close()} leaves the last
 *       issued millisecond as the row's reservation, and a crash leaves the last reservation: the
 *       next holder starts above either.
 *   <li>Clocks are not assumed synchronised for uniqueness. A clock that is wrong only makes a lease
 *       look expired early (another instance takes over; still unique) or late (a worker id stays
 *       unavailable longer).
 * </ul>
 *
 * <p>When the logical time reaches the reservation (renewal failing, the lease lost, or borrowing
 * ran ahead), {@link #nextId()} tries once to extend the reservation synchronously and, if that
 * fails, throws {@link IdGeneratorUnavailableException}: it never risks a duplicate. A generator
 * that lost its lease does not claim another worker id; build and start a new one.
 *
 * <p>Timestamps: {@link #timestampOf(long)} is at or after the wall clock at the moment the id was
 * issued, and ahead of it only while borrowing, after the clock stepped back, or after taking over a
 * row whose reservation lay in the future (at most {@code reserveAhead}, one hour at most, beyond
 * the latest clock reading a holder of the row made). Route by {@code timestampOf(id)}, not by a
 * separate clock reading, and the month table of an id is always recoverable from the id alone.
 *
 * <p>Thread-safety: all methods are thread-safe. {@link #nextId()} is lock-free (one CAS on an
 * {@link AtomicLong}) and makes no database call unless the reservation ran out. {@link
 * #createTable()}, {@link #start()} and {@link #close()} block on the database.
 *
 * <p>Size: past the house limit of ~400 lines because of its public nested {@link Builder} and the
 * documented worker-id lease protocol; about 320 of the lines are code.
 */
public final class IdGenerator implements AutoCloseable {

  /** The epoch of the timestamp bits: 2026-01-01T00:00:00Z. */
  public static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
  /** Bits of milliseconds since {@link #EPOCH}. */
  public static final int TIMESTAMP_BITS = 41;
  /** Bits of worker id. */
  public static final int WORKER_BITS = 10;
  /** Bits of sequence within a millisecond. */
  public static final int SEQUENCE_BITS = 12;
  /** The largest worker id, 1023. */
  public static final int MAX_WORKER_ID = (1 << WORKER_BITS) - 1;
  /** The default table name. */
  public static final String DEFAULT_TABLE = "giftkit_id_worker";
  /** The default lease duration: 30 s. */
  public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(30);
  /** The default reservation ahead of the issued time: 10 s. */
  public static final Duration DEFAULT_RESERVE_AHEAD = Duration.ofSeconds(10);
  /** The longest reservation ahead allowed: 1 h (it bounds how far a takeover's timestamps run ahead). */
  public static final Duration MAX_RESERVE_AHEAD = Duration.ofHours(1);

  private static final Duration MAX_DURATION = Duration.ofDays(1);
  private static final Logger LOG = LoggerFactory.getLogger(IdGenerator.class);
  private static final long EPOCH_MS = EPOCH.toEpochMilli();
  private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
  private static final long MAX_MS = (1L << TIMESTAMP_BITS) - 1;
  private static final int WORKER_SHIFT = SEQUENCE_BITS;
  private static final int TIMESTAMP_SHIFT = SEQUENCE_BITS + WORKER_BITS;
  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");

  /** State values below zero: not started, closed. Otherwise {@code (ms since EPOCH << 12) | sequence}. */
  private static final long NOT_STARTED = -1;
  private static final long CLOSED = -2;

  private final LeaseTable table;
  private final String owner;
  private final Clock clock;
  private final Duration leaseDuration;
  private final Duration reserveAhead;
  private final Duration renewEvery;
  private final boolean backgroundRenewal;

  /** The last issued (or floor) logical time and sequence; see NOT_STARTED and CLOSED. */
  private final AtomicLong state = new AtomicLong(NOT_STARTED);
  /** The reservation in ms since EPOCH, copied from the lease for the hot path. */
  private volatile long reservedMs = Long.MIN_VALUE;
  private volatile long workerBits;
  private volatile WorkerLease lease;
  private ScheduledExecutorService renewer; // guarded by this
  private final LongAdder issued = new LongAdder();

  private IdGenerator(Builder b) {
    this.owner = b.owner != null ? b.owner : defaultOwner();
    this.clock = b.clock;
    this.leaseDuration = b.leaseDuration;
    this.reserveAhead = b.reserveAhead;
    Duration every = leaseDuration.dividedBy(3);
    Duration half = reserveAhead.dividedBy(2);
    this.renewEvery = max(Duration.ofMillis(1), every.compareTo(half) < 0 ? every : half);
    this.backgroundRenewal = b.backgroundRenewal;
    int timeout = (int) Math.max(1, Math.min(Integer.MAX_VALUE, renewEvery.toSeconds()));
    this.table = new LeaseTable(b.dataSource, b.table, timeout);
  }

  /**
   * Starts a builder. Defaults: table {@value #DEFAULT_TABLE}, owner hostname:pid:random, lease 30 s,
   * reserve ahead 10 s, {@link Clock#systemUTC()}.
   *
   * @param dataSource the database holding the worker-lease table; not null
   * @return the builder
   * @throws io.giftkit.core.InvalidConfigException if {@code dataSource} is null
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(Checks.requireNonNull("dataSource", dataSource));
  }

  /**
   * Creates the worker-lease table if it does not exist, and its rows 0 … 1023 that are missing.
   * Idempotent and safe when instances race. Blocks on the database. The DDL:
   *
   * <pre>{@code
   * CREATE TABLE IF NOT EXISTS giftkit_id_worker (worker_id INT NOT NULL PRIMARY KEY,
   *     owner VARCHAR(128) NULL, lease_until BIGINT NOT NULL, reserved_until BIGINT NOT NULL)
   * }</pre>
   *
   * @throws IdGeneratorUnavailableException naming the table and the cause if the database fails
   */
  public void createTable() {
    try {
      int inserted = table.create();
      if (inserted > 0) {
        LOG.info("Created {} worker rows in table {}", inserted, table.name());
      }
    } catch (SQLException e) {
      throw IdGeneratorUnavailableException.claimFailed(table.name(),
          "creating the table failed: " + e, e);
    }
  }

  /**
   * Claims a worker id and starts renewing its lease on a daemon thread. Blocks on the database.
   *
   * @throws IdGeneratorUnavailableException naming the table and the cause if every worker id is
   *     held, the table is missing or the database cannot be reached
   * @throws IllegalStateException if already started or closed
   */
  public synchronized void start() {
    if (state.get() != NOT_STARTED || lease != null) {
      throw new IllegalStateException("IdGenerator on table " + table.name()
          + " was already started (or closed); build a new one");
    }
    long now = clock.millis();
    if (now < EPOCH_MS) {
      throw IdGeneratorUnavailableException.claimFailed(table.name(),
          "the clock reads " + Instant.ofEpochMilli(now) + ", before the id epoch " + EPOCH, null);
    }
    WorkerLease l = WorkerLease.claim(
        table, owner, clock, leaseDuration.toMillis(), reserveAhead.toMillis());
    lease = l;
    workerBits = (long) l.workerId() << WORKER_SHIFT;
    reservedMs = l.reservedUntil() - EPOCH_MS;
    // Issue only above the row's previous reservation: the marker below is "as if issued", never
    // returned (the next id is marker + 1 or a later millisecond).
    long startMs = Math.max(0, l.floor() - EPOCH_MS + 1);
    state.set(startMs << SEQUENCE_BITS);
    if (backgroundRenewal) {
      renewer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "giftkit-idgen-" + table.name() + "-" + l.workerId());
        t.setDaemon(true);
        return t;
      });
      long every = renewEvery.toMillis();
      renewer.scheduleWithFixedDelay(this::renewQuietly, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Returns a new id: unique among all generators on the same table, greater than every id this
   * generator returned before. Lock-free; no database call unless the reservation ran out, in which
   * case it blocks for one attempt to extend it.
   *
   * @return a positive id
   * @throws IdGeneratorUnavailableException if the reservation ran out and could not be extended
   *     (database down, lease lost to another instance); never returns a possibly duplicate id
   * @throws IllegalStateException before {@link #start()} or after {@link #close()}
   */
  public long nextId() {
    for (;;) {
      long prev = state.get();
      if (prev < 0) {
        throw notRunning(prev);
      }
      long now = clock.millis() - EPOCH_MS;
      // Later wall clock: its first sequence number; otherwise the next one, carrying into the
      // next millisecond (borrowing from the future) when the sequence is used up.
      long next = now > (prev >>> SEQUENCE_BITS) ? now << SEQUENCE_BITS : prev + 1;
      long ms = next >>> SEQUENCE_BITS;
      if (ms > reservedMs) {
        extendFor(ms);
        continue;
      }
      if (state.compareAndSet(prev, next)) {
        issued.increment();
        return (ms << TIMESTAMP_SHIFT) | workerBits | (next & SEQUENCE_MASK);
      }
    }
  }

  /** Slow path: the logical time {@code ms} is beyond the reservation. */
  private void extendFor(long ms) {
    WorkerLease l = lease;
    synchronized (this) {
      if (ms <= reservedMs || state.get() < 0) {
        return; // another thread extended it, or close() ran: the loop sees which
      }
      if (ms > MAX_MS) {
        throw IdGeneratorUnavailableException.cannotIssue(table.name(), l.workerId(), owner,
            "the timestamp bits are exhausted (" + timestampOfMillis(ms) + ")", null);
      }
      if (!l.lost() && l.renew(currentLogicalMs() + EPOCH_MS, ms + EPOCH_MS)) {
        reservedMs = l.reservedUntil() - EPOCH_MS;
      }
      if (ms > reservedMs) {
        throw IdGeneratorUnavailableException.cannotIssue(table.name(), l.workerId(), owner,
            "logical time " + timestampOfMillis(ms) + " is past the reservation "
                + timestampOfMillis(reservedMs) + " and extending it failed: " + l.lastFailure(),
            null);
      }
    }
  }

  private long currentLogicalMs() {
    long s = state.get();
    return s < 0 ? 0 : s >>> SEQUENCE_BITS;
  }

  private void renewQuietly() {
    try {
      renewOnce();
    } catch (RuntimeException | Error e) {
      LOG.error("Unexpected failure renewing the id worker lease in table {}", table.name(), e);
    }
  }

  /**
   * One renewal, as the background thread runs it (tests call it directly).
   *
   * @return whether the lease and reservation were written
   */
  boolean renewOnce() {
    WorkerLease l = lease;
    if (l == null || state.get() < 0) {
      return false;
    }
    boolean ok = l.renew(currentLogicalMs() + EPOCH_MS, 0);
    if (ok) {
      synchronized (this) {
        if (state.get() >= 0) {
          reservedMs = Math.max(reservedMs, l.reservedUntil() - EPOCH_MS);
        }
      }
    } else if (l.lost()) {
      stopRenewing();
    }
    return ok;
  }

  /**
   * Stops issuing, stops renewing and releases the worker id, leaving the last issued millisecond as
   * the row's reservation so that the next holder starts above it. Idempotent. Blocks on the
   * database; a failure to release is logged (the lease then expires by itself).
   */
  @Override
  public synchronized void close() {
    long last = state.getAndSet(CLOSED); // from here on, every CAS in nextId() fails
    stopRenewing();
    WorkerLease l = lease;
    if (last >= 0 && l != null) {
      // The high-water mark: at least the last issued millisecond; a borrowed sequence ends there.
      l.release((last >>> SEQUENCE_BITS) + EPOCH_MS);
    }
  }

  private synchronized void stopRenewing() {
    if (renewer != null) {
      renewer.shutdownNow();
      renewer = null;
    }
  }

  private IllegalStateException notRunning(long s) {
    return new IllegalStateException("IdGenerator on table " + table.name() + " is "
        + (s == CLOSED ? "closed" : "not started: call start()"));
  }

  /**
   * Returns the claimed worker id.
   *
   * @return 0 … 1023
   * @throws IllegalStateException before {@link #start()}
   */
  public int workerId() {
    WorkerLease l = lease;
    if (l == null) {
      throw new IllegalStateException("IdGenerator on table " + table.name() + " is not started");
    }
    return l.workerId();
  }

  /**
   * Returns the owner written into the lease table.
   *
   * @return the owner
   */
  public String owner() {
    return owner;
  }

  /**
   * Returns the end of the current reservation: no id with a later timestamp is issued without
   * extending it first.
   *
   * @return the reservation's end, or {@code null} before {@link #start()}
   */
  public Instant reservedUntil() {
    WorkerLease l = lease;
    return l == null ? null : Instant.ofEpochMilli(l.reservedUntil());
  }

  /**
   * Returns how many ids this generator issued.
   *
   * @return the count
   */
  public long issued() {
    return issued.sum();
  }

  /**
   * Returns how many renewals (background or synchronous) wrote the lease table.
   *
   * @return the count
   */
  public long renewals() {
    WorkerLease l = lease;
    return l == null ? 0 : l.renewals();
  }

  /**
   * Returns how many renewals failed (database error, or the lease lost).
   *
   * @return the count
   */
  public long renewalFailures() {
    WorkerLease l = lease;
    return l == null ? 0 : l.renewalFailures();
  }

  /**
   * Returns the creation time carried by an id (see the layout above).
   *
   * @param id an id from {@link #nextId()}
   * @return its timestamp
   * @throws io.giftkit.core.InvalidConfigException if {@code id} is negative
   */
  public static Instant timestampOf(long id) {
    Checks.requireNonNegative("id", id);
    return timestampOfMillis(id >>> TIMESTAMP_SHIFT);
  }

  /**
   * Returns the worker id carried by an id.
   *
   * @param id an id from {@link #nextId()}
   * @return 0 … 1023
   * @throws io.giftkit.core.InvalidConfigException if {@code id} is negative
   */
  public static int workerOf(long id) {
    Checks.requireNonNegative("id", id);
    return (int) ((id >>> WORKER_SHIFT) & MAX_WORKER_ID);
  }

  /**
   * Returns the sequence number carried by an id.
   *
   * @param id an id from {@link #nextId()}
   * @return 0 … 4095
   * @throws io.giftkit.core.InvalidConfigException if {@code id} is negative
   */
  public static int sequenceOf(long id) {
    Checks.requireNonNegative("id", id);
    return (int) (id & SEQUENCE_MASK);
  }

  private static Instant timestampOfMillis(long msSinceEpoch) {
    return Instant.ofEpochMilli(EPOCH_MS + msSinceEpoch);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  static String defaultOwner() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "unknown-host";
    }
    String pid;
    try {
      pid = Long.toString(ProcessHandle.current().pid());
    } catch (UnsupportedOperationException e) {
      pid = ManagementFactory.getRuntimeMXBean().getName();
    }
    String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt()).toLowerCase(Locale.ROOT);
    String tail = ":" + pid + ":" + suffix;
    if (host.length() + tail.length() > 128) {
      host = host.substring(0, 128 - tail.length());
    }
    return host + tail;
  }

  @Override
  public String toString() {
    WorkerLease l = lease;
    return "IdGenerator{table=" + table.name() + ", owner=" + owner
        + ", worker=" + (l == null ? "none" : l.workerId()) + "}";
  }

  /**
   * Builds an {@link IdGenerator}. Each setter checks its argument at once and throws {@link
   * io.giftkit.core.InvalidConfigException} (an {@link IllegalArgumentException}) naming the
   * parameter, the rule and the bad value. Not thread-safe; {@link #build()} may be called more than
   * once and does not touch the database.
   */
  public static final class Builder {
    private final DataSource dataSource;
    private String table = DEFAULT_TABLE;
    private String owner;
    private Duration leaseDuration = DEFAULT_LEASE_DURATION;
    private Duration reserveAhead = DEFAULT_RESERVE_AHEAD;
    private Clock clock = Clock.systemUTC();
    private boolean backgroundRenewal = true;

    private Builder(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    /**
     * Sets the worker-lease table. Default {@value IdGenerator#DEFAULT_TABLE}.
     *
     * @param table {@code [A-Za-z0-9_]{1,64}}
     * @return this builder
     */
    public Builder table(String table) {
      this.table = Checks.requireMatches("table", table, TABLE,
          "letters, digits and '_', 1 to 64 characters");
      return this;
    }

    /**
     * Sets the owner written into the lease table; it identifies this instance. Default: hostname,
     * pid and a random suffix. Give every live instance a different owner.
     *
     * @param owner 1 to 128 characters, not blank
     * @return this builder
     */
    public Builder owner(String owner) {
      Checks.requireNonBlank("owner", owner);
      if (owner.length() > 128) {
        throw Checks.invalid("owner", "must be at most 128 characters", "\"" + owner + "\"");
      }
      this.owner = owner;
      return this;
    }

    /**
     * Sets how long a claimed worker id stays leased without renewal. Default 30 s. A crashed
     * instance's worker id becomes free this long after its last renewal.
     *
     * @param leaseDuration 1 ms to 1 day, whole milliseconds
     * @return this builder
     */
    public Builder leaseDuration(Duration leaseDuration) {
      this.leaseDuration = wholeMillis("leaseDuration", leaseDuration);
      return this;
    }

    /**
     * Sets how far beyond the issued time the reservation is kept. Default 10 s, at most 1 h. Longer
     * survives longer database outages without failing {@code nextId()}; shorter keeps the
     * timestamps of a generator that takes over a crashed one's worker id closer to the clock.
     *
     * @param reserveAhead 1 ms to 1 h, whole milliseconds
     * @return this builder
     */
    public Builder reserveAhead(Duration reserveAhead) {
      wholeMillis("reserveAhead", reserveAhead);
      if (reserveAhead.compareTo(MAX_RESERVE_AHEAD) > 0) {
        throw Checks.invalid("reserveAhead", "must be at most 1h", reserveAhead);
      }
      this.reserveAhead = reserveAhead;
      return this;
    }

    /**
     * Sets the clock (wall time, for timestamps and leases). Default {@link Clock#systemUTC()}.
     *
     * @param clock not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Checks.requireNonNull("clock", clock);
      return this;
    }

    /** For tests: renew only when {@link IdGenerator#renewOnce()} or the hot path asks. */
    Builder withoutBackgroundRenewal() {
      this.backgroundRenewal = false;
      return this;
    }

    /**
     * Builds the generator. Does not touch the database: call {@link IdGenerator#createTable()} and
     * {@link IdGenerator#start()}.
     *
     * @return a new, not yet started generator
     */
    public IdGenerator build() {
      return new IdGenerator(this);
    }

    private static Duration wholeMillis(String parameter, Duration d) {
      Checks.requirePositive(parameter, d);
      if (d.getNano() % 1_000_000 != 0) {
        throw Checks.invalid(parameter, "must be a whole number of milliseconds", d);
      }
      if (d.compareTo(MAX_DURATION) > 0) {
        throw Checks.invalid(parameter, "must be at most 1d", d);
      }
      return d;
    }
  }
}
