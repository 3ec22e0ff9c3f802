package io.giftkit.mq.recheck;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Durable delayed re-checks, e.g. of orders whose payment call timed out: schedule a check of a
 * business key at now + delay; at due time a {@link RecheckHandler} runs and says resolved, retry
 * later, or alert. The schedule lives in a database table, so it survives restarts, and several
 * instances can run schedulers over the same table without running a check twice.
 *
 * <pre>{@code
 * DelayedRecheck recheck = DelayedRecheck.builder("payment-timeouts", dataSource)
 *     .handler((orderId, attempt) -> payments.isSettled(orderId)
 *         ? RecheckResult.resolved()
 *         : RecheckResult.retryLater("payment still pending"))
 *     .maxAttempts(5)                          // then alert
 *     .retryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(5))
 *     .alertListener(alert -> pager.page(alert))
 *     .build();
 * recheck.createTable();                      // or run the DDL in your migrations
 * recheck.start();
 * recheck.schedule("order-123", Duration.ofSeconds(30));
 * }</pre>
 *
 * <p><b>Claims and leases.</b> Each look reads up to {@code batchSize} due checks, then claims and
 * runs them one at a time: a check is claimed (one conditional {@code UPDATE} that sets the
 * scheduler's owner token, counts the attempt and moves the due time to now + lease) just before it
 * runs, and its handler runs on a helper thread for at most {@code checkTimeout} (default ¾ of the
 * lease, at most 9/10 of it). A handler still running then is interrupted and the attempt counts as
 * failed ({@link #timeouts()}); its outcome is written, with the owner token and attempt in the
 * condition, before the lease ends. So no check runs outside its lease, and no check runs on two
 * schedulers at once — unless a handler ignores interruption: Java cannot stop it, it is abandoned
 * (a new helper thread takes over, {@link #abandoned()}) and may still be running when the next
 * attempt starts. No transaction is held while the handler runs.
 *
 * <p><b>Back-off.</b> By default an unsettled attempt is retried after 30 s, doubling per attempt up
 * to 5 min, each delay a uniform draw in [½, 1] of that ({@link #DEFAULT_RETRY_DELAY},
 * {@link #DEFAULT_MAX_RETRY_DELAY}; {@link Builder#retryBackoff}). {@link Builder#retryDelay} keeps
 * its original meaning: the same delay after every attempt, no jitter.
 *
 * <p><b>Guarantee.</b> Each check runs once per attempt while schedulers live; if a scheduler dies
 * mid-check, the check comes due again when the lease ends and another scheduler runs it: at least
 * once, never lost. An outcome written by a scheduler that lost its lease (its outcome write came
 * after the lease, e.g. a slow database) is discarded ({@link #lostLeases()}). Attempts are bounded:
 * after {@code maxAttempts} a check that is still unsettled becomes an alert, including when its
 * last attempt never finished. Due times come from each instance's clock: keep clocks within a
 * small fraction of {@code lease − checkTimeout}.
 *
 * <p><b>Table</b> (MariaDB, MySQL 8, H2 in MySQL mode; {@link #createTable()} creates it): one row
 * per pending or alerted check, primary key {@code (scheduler, check_key)}; resolved checks are
 * deleted, alerts are kept until {@link #acknowledge(String) acknowledged}. Several schedulers
 * (names) may share a table.
 *
 * <p>Thread-safe. {@link #schedule} blocks for one insert; checks run one at a time on the
 * scheduler's own thread and a helper thread. The work is split: the SQL in {@code RecheckStore},
 * the loop and claims in {@code RecheckPoller}, the bounded handler call in {@code CheckRunner}, the
 * delays in {@code RetryBackoff}. This file is past ~400 lines only because the public nested
 * {@link Builder} (its knobs and their javadoc) lives here, where callers already name it
 * ({@code DelayedRecheck.Builder}); the facade itself is schedule, cancel, alerts, lifecycle and
 * counters.
 *
 * <p>Size: past the house limit of ~400 lines (213 of them code) because of its nested {@link Builder}
 * (the type users name, each knob with its rule and default) and this class comment. The work is in
 * {@code RecheckStore} (statements), {@code RecheckPoller} (looks, claims, leases), {@code CheckRunner}
 * (one check, bounded by {@code checkTimeout}) and {@code RetryBackoff}.
 */
public final class DelayedRecheck implements AutoCloseable {

  /** The scheduler's lifecycle. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Polling for due checks. */
    RUNNING,
    /** Closed. */
    STOPPED
  }

  /** Default attempts before an unsettled check becomes an alert. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  /** Default delay after the first unsettled attempt (then doubling, with jitter). */
  public static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(30);
  /** Default cap on the delay between attempts. */
  public static final Duration DEFAULT_MAX_RETRY_DELAY = Duration.ofMinutes(5);
  /** Default time between looks for due checks. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  /** Default time a claimed check is reserved for the scheduler running it. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(60);
  /** Default most due checks read per look (each is claimed just before it runs). */
  public static final int DEFAULT_BATCH_SIZE = 50;

  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");

  private final String name;
  private final RecheckStore store;
  private final RecheckPoller poller;
  private final Clock clock;
  private final RecheckCounters counters = new RecheckCounters();
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);

  private DelayedRecheck(Builder b, Duration checkTimeout) {
    this.name = b.name;
    this.clock = b.clock;
    this.store = new RecheckStore(b.name, b.dataSource, b.table);
    String owner = (name.length() > 27 ? name.substring(0, 27) : name) + "-" + UUID.randomUUID();
    Listeners<RecheckAlertListener> alertListeners = Listeners.create("re-check '" + name + "'");
    b.alertListeners.forEach(alertListeners::add);
    this.poller = new RecheckPoller(name, store, b.handler, b.backoff, b.maxAttempts, b.pollInterval, b.lease,
        checkTimeout, b.batchSize, b.concurrency, clock, owner, counters, alertListeners);
  }

  /**
   * Starts a builder.
   *
   * @param name the scheduler's name: its rows in the table, its thread and log lines; 1 to 100
   *     characters
   * @param dataSource the database holding the table
   * @return a new builder
   */
  public static Builder builder(String name, DataSource dataSource) {
    Checks.requireNonBlank("name", name);
    if (name.length() > 100) {
      throw Checks.invalid("name", "must be at most 100 characters", name);
    }
    return new Builder(name, Checks.requireNonNull("dataSource", dataSource));
  }

  /**
   * Creates the table if it does not exist (a table made by an earlier version is fine as it is).
   *
   * @throws SQLException on database failure
   */
  public void createTable() throws SQLException {
    store.createTable();
  }

  /**
   * Schedules a check of {@code key} at now + {@code delay}, in its own transaction.
   *
   * @param key the business key, 1 to 190 characters
   * @param delay how long from now; not negative
   * @return true if scheduled; false if a check of this key is already pending or alerted (its due
   *     time is left as it was)
   * @throws SQLException on database failure
   */
  public boolean schedule(String key, Duration delay) throws SQLException {
    checkKey(key);
    Checks.requireNonNegative("delay", delay);
    try (Connection c = store.connection()) {
      return schedule(c, key, delay);
    }
  }

  /**
   * Schedules a check in the caller's transaction, so it commits or rolls back with the caller's
   * writes (e.g. the order marked "payment timed out").
   *
   * @param connection the caller's connection to the database holding the table
   * @param key the business key, 1 to 190 characters
   * @param delay how long from now; not negative
   * @return true if scheduled; false if a check of this key is already pending or alerted
   * @throws SQLException on database failure
   */
  public boolean schedule(Connection connection, String key, Duration delay) throws SQLException {
    Checks.requireNonNull("connection", connection);
    checkKey(key);
    Checks.requireNonNegative("delay", delay);
    long now = clock.millis();
    if (!store.insert(connection, key, now + delay.toMillis(), now)) {
      return false;
    }
    counters.scheduled.increment();
    return true;
  }

  /**
   * Cancels a pending check (e.g. the payment callback arrived first).
   *
   * @param key the business key
   * @return whether a pending check was removed
   * @throws SQLException on database failure
   */
  public boolean cancel(String key) throws SQLException {
    checkKey(key);
    return store.delete(key, RecheckStore.PENDING);
  }

  /**
   * Cancels a pending check in the caller's transaction (e.g. the order became PAID in the same
   * transaction), so the check disappears exactly when the caller's writes commit.
   *
   * @param connection the caller's connection to the database holding the table
   * @param key the business key
   * @return whether a pending check was removed
   * @throws SQLException on database failure
   */
  public boolean cancel(Connection connection, String key) throws SQLException {
    Checks.requireNonNull("connection", connection);
    checkKey(key);
    return store.delete(connection, key, RecheckStore.PENDING);
  }

  /**
   * Removes an alert once a person has dealt with it.
   *
   * @param key the business key
   * @return whether an alert was removed
   * @throws SQLException on database failure
   */
  public boolean acknowledge(String key) throws SQLException {
    checkKey(key);
    return store.delete(key, RecheckStore.ALERTED);
  }

  /**
   * @return the alerts recorded for this scheduler and not yet acknowledged, oldest first (at most 1,000)
   * @throws SQLException on database failure
   */
  public List<RecheckAlert> alerts() throws SQLException {
    return store.alerts();
  }

  /**
   * @return checks scheduled and not yet resolved or alerted (a query; for metrics)
   * @throws SQLException on database failure
   */
  public long pending() throws SQLException {
    return store.pending();
  }

  /**
   * Starts looking for due checks on the scheduler's own (daemon) thread.
   *
   * @throws IllegalStateException if it was started or closed before
   */
  public synchronized void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("re-check '" + name + "' was already started (state " + state.get() + ")");
    }
    poller.start();
  }

  /** Stops after the check in hand (its outcome is written) and waits up to 30 s for it. */
  @Override
  public void close() {
    poller.close();
    state.set(State.STOPPED);
  }

  /** @return the lifecycle state */
  public State state() {
    return state.get();
  }

  /** @return the scheduler's name */
  public String name() {
    return name;
  }

  /** @return checks this instance scheduled */
  public long scheduled() {
    return counters.scheduled.sum();
  }

  /** @return checks this instance resolved */
  public long resolved() {
    return counters.resolved.sum();
  }

  /** @return attempts that asked to retry later (or failed) and were rescheduled */
  public long retried() {
    return counters.retried.sum();
  }

  /** @return alerts this instance raised */
  public long alerted() {
    return counters.alerted.sum();
  }

  /** @return handler calls that threw, returned null or ran out of {@code checkTimeout} */
  public long failures() {
    return counters.failures.sum();
  }

  /** @return handler calls interrupted because they ran out of {@code checkTimeout} (also in {@link #failures()}) */
  public long timeouts() {
    return counters.timeouts.sum();
  }

  /** @return timed-out handler calls that ignored the interrupt and were left running on an abandoned thread */
  public long abandoned() {
    return counters.abandoned.sum();
  }

  /** @return outcomes discarded because the lease had run out and another scheduler had taken the check over */
  public long lostLeases() {
    return counters.lostLeases.sum();
  }

  /** @return failed looks for due checks and failed outcome writes (the check comes due again) */
  public long databaseErrors() {
    return counters.databaseErrors.sum();
  }

  private static void checkKey(String key) {
    Checks.requireNonBlank("key", key);
    if (key.length() > RecheckStore.MAX_KEY) {
      throw Checks.invalid("key", "must be at most " + RecheckStore.MAX_KEY + " characters", key);
    }
  }

  @Override
  public String toString() {
    return "DelayedRecheck{name=" + name + ", table=" + store.table() + ", state=" + state.get() + "}";
  }

  /** Builds a {@link DelayedRecheck}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final DataSource dataSource;
    private final List<RecheckAlertListener> alertListeners = new ArrayList<>();
    private String table = "giftkit_recheck";
    private RecheckHandler handler;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private RetryBackoff backoff = RetryBackoff.exponential(DEFAULT_RETRY_DELAY, DEFAULT_MAX_RETRY_DELAY);
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration lease = DEFAULT_LEASE;
    private Duration checkTimeout;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int concurrency = 1;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, DataSource dataSource) {
      this.name = name;
      this.dataSource = dataSource;
    }

    /**
     * @param table the table; {@code [A-Za-z0-9_]}, 1 to 64 characters; default {@code giftkit_recheck}
     * @return this builder
     */
    public Builder table(String table) {
      this.table = Checks.requireMatches("table", table, TABLE, "1 to 64 characters of A-Z, a-z, 0-9 or '_'");
      return this;
    }

    /**
     * @param handler runs each due check; required
     * @return this builder
     */
    public Builder handler(RecheckHandler handler) {
      this.handler = Checks.requireNonNull("handler", handler);
      return this;
    }

    /**
     * @param maxAttempts attempts before an unsettled check becomes an alert; in [1, 1000]; default 5
     * @return this builder
     */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = (int) Checks.requireInRange("maxAttempts", maxAttempts, 1, 1_000);
      return this;
    }

    /**
     * The same delay after every unsettled attempt, no jitter (this method's meaning since the first
     * version). Replaces an earlier {@link #retryBackoff}.
     *
     * @param delay between attempts; positive
     * @return this builder
     */
    public Builder retryDelay(Duration delay) {
      this.backoff = RetryBackoff.fixed(Checks.requirePositive("retryDelay", delay));
      return this;
    }

    /**
     * Exponential back-off between attempts: {@code initial} after the first, doubling per attempt
     * up to {@code max}, each a uniform draw in [½, 1] of that. The default (30 s, 5 min). Replaces
     * an earlier {@link #retryDelay}.
     *
     * @param initial the delay after the first unsettled attempt; positive
     * @param max the cap; at least {@code initial}
     * @return this builder
     */
    public Builder retryBackoff(Duration initial, Duration max) {
      Checks.requirePositive("initial", initial);
      Checks.requirePositive("max", max);
      if (max.compareTo(initial) < 0) {
        throw Checks.invalid("max", "must be at least initial (" + Checks.describe(initial) + ")", max);
      }
      this.backoff = RetryBackoff.exponential(initial, max);
      return this;
    }

    /**
     * @param interval between looks for due checks (a check runs at most this late); positive; default 1 s
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = Checks.requirePositive("pollInterval", interval);
      return this;
    }

    /**
     * @param lease how long a claimed check is reserved for the scheduler running it; after it, the
     *     check is due again (a dead scheduler's checks are not lost); at least 1 s; default 60 s
     * @return this builder
     */
    public Builder lease(Duration lease) {
      Checks.requirePositive("lease", lease);
      if (lease.toMillis() < 1_000) {
        throw Checks.invalid("lease", "must be at least 1s", lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * @param timeout the most a handler call may take: then it is interrupted and the attempt counts
     *     as failed; positive and at most 9/10 of the lease (the rest is for writing the outcome
     *     within the lease); default ¾ of the lease
     * @return this builder
     */
    public Builder checkTimeout(Duration timeout) {
      this.checkTimeout = Checks.requirePositive("checkTimeout", timeout);
      return this;
    }

    /**
     * @param batchSize most due checks read per look (each claimed just before it runs); in [1, 1000]; default 50
     * @return this builder
     */
    public Builder batchSize(int batchSize) {
      this.batchSize = (int) Checks.requireInRange("batchSize", batchSize, 1, 1_000);
      return this;
    }

    /**
     * How many checks this scheduler runs at once. Each still has its own claim, lease and bound, and
     * the guarantees are the same; side by side, their commits share the database's log flushes (one
     * at a time, a check costs two commits and the handler's time). Needs that many connections from
     * the data source, plus one for looking.
     *
     * @param concurrency checks run at once; in [1, 256]; default 1
     * @return this builder
     */
    public Builder concurrency(int concurrency) {
      this.concurrency = (int) Checks.requireInRange("concurrency", concurrency, 1, 256);
      return this;
    }

    /**
     * @param listener hears every alert this instance raises (guarded: a throwing listener is logged)
     * @return this builder
     */
    public Builder alertListener(RecheckAlertListener listener) {
      alertListeners.add(Checks.requireNonNull("alertListener", listener));
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
     * @return the scheduler (not started)
     * @throws io.giftkit.core.InvalidConfigException if no handler was given, or checkTimeout is above
     *     9/10 of the lease
     */
    public DelayedRecheck build() {
      Checks.requireNonNull("handler", handler);
      Duration bound = checkTimeout != null ? checkTimeout : lease.multipliedBy(3).dividedBy(4);
      Duration most = lease.multipliedBy(9).dividedBy(10);
      if (bound.compareTo(most) > 0) {
        throw Checks.invalid("checkTimeout", "must be at most 9/10 of the lease (" + Checks.describe(most) + ")",
            bound);
      }
      return new DelayedRecheck(this, bound);
    }
  }
}
