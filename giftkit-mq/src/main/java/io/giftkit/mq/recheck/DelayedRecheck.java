package io.giftkit.mq.recheck;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *     .retryDelay(Duration.ofSeconds(30))
 *     .alertListener(alert -> pager.page(alert))
 *     .build();
 * recheck.createTable();                      // or run the DDL in your migrations
 * recheck.start();
 * recheck.schedule("order-123", Duration.ofSeconds(30));
 * }</pre>
 *
 * <p><b>Claims.</b> A due check is claimed with one conditional {@code UPDATE} that sets the
 * scheduler's owner token, counts the attempt and moves the due time to now + lease; only the
 * scheduler whose update changed the row runs it. The outcome is written with the same token in the
 * condition. No transaction is held while the handler runs (it usually calls remote services).
 *
 * <p><b>Guarantee.</b> Each check runs once per attempt while schedulers live; if a scheduler dies
 * mid-check (or a handler outlives the lease, default 60 s), the check comes due again when the lease
 * ends and another scheduler runs it: at least once, never lost. An outcome written by a scheduler
 * that lost its lease is discarded (counted in {@link #lostLeases()}). Attempts are bounded: after
 * {@code maxAttempts} a check that is still unsettled becomes an alert, including when its last
 * attempt never finished. Due times come from each instance's clock: keep clocks within a small
 * fraction of the lease.
 *
 * <p><b>Table</b> (MariaDB, MySQL 8; {@link #createTable()} creates it): one row per pending or
 * alerted check, primary key {@code (scheduler, check_key)}; resolved checks are deleted, alerts are
 * kept until {@link #acknowledge(String) acknowledged}. Several schedulers (names) may share a table.
 *
 * <p>Thread-safe. {@link #schedule} blocks for one insert; checks run one at a time on the
 * scheduler's own thread.
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
  /** Default delay between attempts. */
  public static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(30);
  /** Default time between looks for due checks. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  /** Default time a claimed check is reserved for the scheduler running it. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(60);
  /** Default checks claimed per look. */
  public static final int DEFAULT_BATCH_SIZE = 50;

  private static final Logger LOG = LoggerFactory.getLogger(DelayedRecheck.class);
  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
  private static final int MAX_KEY = 190;
  private static final int MAX_REASON = 1_000;
  private static final String PENDING = "P";
  private static final String ALERTED = "A";

  private final String name;
  private final DataSource dataSource;
  private final String table;
  private final RecheckHandler handler;
  private final int maxAttempts;
  private final Duration retryDelay;
  private final Duration pollInterval;
  private final Duration lease;
  private final int batchSize;
  private final Clock clock;
  private final String owner;
  private final Listeners<RecheckAlertListener> alertListeners;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final LongAdder scheduled = new LongAdder();
  private final LongAdder resolved = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder alerted = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder lostLeases = new LongAdder();
  private final LongAdder databaseErrors = new LongAdder();
  private volatile boolean running;
  private volatile Thread thread;

  private DelayedRecheck(Builder b) {
    this.name = b.name;
    this.dataSource = b.dataSource;
    this.table = b.table;
    this.handler = b.handler;
    this.maxAttempts = b.maxAttempts;
    this.retryDelay = b.retryDelay;
    this.pollInterval = b.pollInterval;
    this.lease = b.lease;
    this.batchSize = b.batchSize;
    this.clock = b.clock;
    this.owner = (name.length() > 27 ? name.substring(0, 27) : name) + "-" + UUID.randomUUID();
    this.alertListeners = Listeners.create("re-check '" + name + "'");
    b.alertListeners.forEach(alertListeners::add);
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
   * Creates the table if it does not exist.
   *
   * @throws SQLException on database failure
   */
  public void createTable() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " ("
          + "scheduler VARCHAR(100) NOT NULL, check_key VARCHAR(" + MAX_KEY + ") NOT NULL,"
          + " status CHAR(1) NOT NULL, due_at BIGINT NOT NULL, attempts INT NOT NULL,"
          + " owner VARCHAR(64) NULL, reason VARCHAR(" + MAX_REASON + ") NULL,"
          + " scheduled_at BIGINT NOT NULL, PRIMARY KEY (scheduler, check_key))");
      try {
        s.execute("CREATE INDEX " + table + "_due ON " + table + " (scheduler, status, due_at)");
      } catch (SQLException alreadyThere) {
        LOG.debug("re-check '{}': index on {} not created ({}); it exists", name, table, alreadyThere.getMessage());
      }
    }
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
    try (Connection c = dataSource.getConnection()) {
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
    try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + table
        + " (scheduler, check_key, status, due_at, attempts, scheduled_at) VALUES (?, ?, ?, ?, 0, ?)")) {
      ps.setString(1, name);
      ps.setString(2, key);
      ps.setString(3, PENDING);
      ps.setLong(4, now + delay.toMillis());
      ps.setLong(5, now);
      ps.executeUpdate();
      scheduled.increment();
      return true;
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("23")) { // integrity constraint: the key is there
        return false;
      }
      throw e;
    }
  }

  /**
   * Cancels a pending check (e.g. the payment callback arrived first).
   *
   * @param key the business key
   * @return whether a pending check was removed
   * @throws SQLException on database failure
   */
  public boolean cancel(String key) throws SQLException {
    return deleteWithStatus(key, PENDING);
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
    try (PreparedStatement ps = connection.prepareStatement(
        "DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND status = ?")) {
      ps.setString(1, name);
      ps.setString(2, key);
      ps.setString(3, PENDING);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Removes an alert once a person has dealt with it.
   *
   * @param key the business key
   * @return whether an alert was removed
   * @throws SQLException on database failure
   */
  public boolean acknowledge(String key) throws SQLException {
    return deleteWithStatus(key, ALERTED);
  }

  private boolean deleteWithStatus(String key, String status) throws SQLException {
    checkKey(key);
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND status = ?")) {
      ps.setString(1, name);
      ps.setString(2, key);
      ps.setString(3, status);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * @return the alerts recorded for this scheduler and not yet acknowledged, oldest first (at most 1,000)
   * @throws SQLException on database failure
   */
  public List<RecheckAlert> alerts() throws SQLException {
    List<RecheckAlert> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT check_key, attempts, reason, due_at FROM " + table
            + " WHERE scheduler = ? AND status = ? ORDER BY due_at LIMIT 1000")) {
      ps.setString(1, name);
      ps.setString(2, ALERTED);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new RecheckAlert(name, rs.getString(1), rs.getInt(2), rs.getString(3),
              Instant.ofEpochMilli(rs.getLong(4))));
        }
      }
    }
    return out;
  }

  /**
   * @return checks scheduled and not yet resolved or alerted (a query; for metrics)
   * @throws SQLException on database failure
   */
  public long pending() throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM " + table + " WHERE scheduler = ? AND status = ?")) {
      ps.setString(1, name);
      ps.setString(2, PENDING);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Starts looking for due checks on the scheduler's own (daemon) thread. */
  public synchronized void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("re-check '" + name + "' was already started (state " + state.get() + ")");
    }
    running = true;
    Thread t = new Thread(this::loop, "giftkit-recheck-" + name);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Stops after the check in hand (its outcome is written) and waits up to 30 s for it. */
  @Override
  public void close() {
    running = false;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
      if (t != Thread.currentThread()) {
        try {
          t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
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
    return scheduled.sum();
  }

  /** @return checks this instance resolved */
  public long resolved() {
    return resolved.sum();
  }

  /** @return attempts that asked to retry later (or failed) and were rescheduled */
  public long retried() {
    return retried.sum();
  }

  /** @return alerts this instance raised */
  public long alerted() {
    return alerted.sum();
  }

  /** @return handler calls that threw or returned null */
  public long failures() {
    return failures.sum();
  }

  /** @return outcomes discarded because another scheduler had taken the check over after the lease */
  public long lostLeases() {
    return lostLeases.sum();
  }

  /** @return failed looks for due checks and failed outcome writes (the check comes due again) */
  public long databaseErrors() {
    return databaseErrors.sum();
  }

  private void loop() {
    long nextErrorLog = 0;
    while (running) {
      int claimed = 0;
      try {
        for (Claim claim : claimDue()) {
          if (!running) {
            break; // the claim's lease runs out and another scheduler (or the next start) takes it
          }
          run(claim);
          claimed++;
        }
      } catch (SQLException | RuntimeException e) {
        databaseErrors.increment();
        long now = System.nanoTime();
        if (now - nextErrorLog >= 0) { // at most one line every 10 s while the database is down
          LOG.warn("re-check '{}': looking for due checks failed; trying again in {} ms", name,
              pollInterval.toMillis(), e);
          nextErrorLog = now + TimeUnit.SECONDS.toNanos(10);
        }
      }
      if (claimed < batchSize && running) {
        LockSupport.parkNanos(this, pollInterval.toNanos());
      }
    }
  }

  private record Claim(String key, int attempts) {}

  private List<Claim> claimDue() throws SQLException {
    long now = clock.millis();
    List<Claim> candidates = new ArrayList<>();
    List<Claim> claimed = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement ps = c.prepareStatement("SELECT check_key, attempts FROM " + table
          + " WHERE scheduler = ? AND status = ? AND due_at <= ? ORDER BY due_at LIMIT " + batchSize)) {
        ps.setString(1, name);
        ps.setString(2, PENDING);
        ps.setLong(3, now);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            candidates.add(new Claim(rs.getString(1), rs.getInt(2)));
          }
        }
      }
      // The conditions make the update a compare-and-set on (status, due_at, attempts): of two
      // schedulers that read the same candidate, only the first update matches; the other changes nothing.
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + table
          + " SET owner = ?, attempts = attempts + 1, due_at = ? WHERE scheduler = ? AND check_key = ?"
          + " AND status = ? AND due_at <= ? AND attempts = ?")) {
        for (Claim candidate : candidates) {
          ps.setString(1, owner);
          ps.setLong(2, now + lease.toMillis());
          ps.setString(3, name);
          ps.setString(4, candidate.key());
          ps.setString(5, PENDING);
          ps.setLong(6, now);
          ps.setInt(7, candidate.attempts());
          if (ps.executeUpdate() == 1) {
            claimed.add(new Claim(candidate.key(), candidate.attempts() + 1));
          }
        }
      }
    }
    return claimed;
  }

  private void run(Claim claim) {
    if (claim.attempts() > maxAttempts) { // the last attempt's scheduler died mid-check
      finish(claim, RecheckResult.alert("unsettled after " + maxAttempts
          + " attempts (the last one did not finish: its scheduler stopped mid-check)"));
      return;
    }
    RecheckResult result;
    try {
      result = handler.check(claim.key(), claim.attempts());
      if (result == null) {
        failures.increment();
        result = RecheckResult.retryLater("the handler returned null");
      }
    } catch (Exception e) {
      failures.increment();
      LOG.warn("re-check '{}': checking '{}' (attempt {} of {}) failed", name, claim.key(), claim.attempts(),
          maxAttempts, e);
      result = RecheckResult.retryLater("failed: " + e);
    }
    if (result.outcome() == RecheckResult.Outcome.RETRY_LATER && claim.attempts() >= maxAttempts) {
      result = RecheckResult.alert("unsettled after " + maxAttempts + " attempts: " + result.reason());
    }
    finish(claim, result);
  }

  private void finish(Claim claim, RecheckResult result) {
    long now = clock.millis();
    String sql;
    switch (result.outcome()) {
      case RESOLVED:
        sql = "DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
        break;
      case RETRY_LATER:
        sql = "UPDATE " + table + " SET owner = NULL, due_at = " + (now + retryDelay.toMillis())
            + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
        break;
      default:
        sql = "UPDATE " + table + " SET owner = NULL, status = '" + ALERTED + "', due_at = " + now
            + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
        break;
    }
    int changed;
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      c.setAutoCommit(true);
      int i = 1;
      if (result.outcome() != RecheckResult.Outcome.RESOLVED) {
        ps.setString(i++, truncate(result.reason()));
      }
      ps.setString(i++, name);
      ps.setString(i++, claim.key());
      ps.setString(i++, owner);
      ps.setInt(i, claim.attempts());
      changed = ps.executeUpdate();
    } catch (SQLException e) {
      databaseErrors.increment();
      LOG.warn("re-check '{}': writing the outcome {} of '{}' failed; the check comes due again when its lease"
          + " ends", name, result, claim.key(), e);
      return;
    }
    if (changed == 0) {
      lostLeases.increment();
      LOG.warn("re-check '{}': '{}' was taken over by another scheduler after this one's lease ({}) ran out;"
          + " outcome {} discarded", name, claim.key(), lease, result);
      return;
    }
    switch (result.outcome()) {
      case RESOLVED:
        resolved.increment();
        break;
      case RETRY_LATER:
        retried.increment();
        break;
      default:
        alerted.increment();
        RecheckAlert alert = new RecheckAlert(name, claim.key(), claim.attempts(), truncate(result.reason()),
            Instant.ofEpochMilli(now));
        LOG.warn("re-check '{}': ALERT for '{}' after {} attempt(s): {}", name, claim.key(), claim.attempts(),
            alert.reason());
        alertListeners.fire(l -> l.onAlert(alert));
        break;
    }
  }

  private static String truncate(String reason) {
    return reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON - 1) + "…";
  }

  private static void checkKey(String key) {
    Checks.requireNonBlank("key", key);
    if (key.length() > MAX_KEY) {
      throw Checks.invalid("key", "must be at most " + MAX_KEY + " characters", key);
    }
  }

  @Override
  public String toString() {
    return "DelayedRecheck{name=" + name + ", table=" + table + ", state=" + state.get() + "}";
  }

  /** Builds a {@link DelayedRecheck}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final DataSource dataSource;
    private final List<RecheckAlertListener> alertListeners = new ArrayList<>();
    private String table = "giftkit_recheck";
    private RecheckHandler handler;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration retryDelay = DEFAULT_RETRY_DELAY;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration lease = DEFAULT_LEASE;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, DataSource dataSource) {
      this.name = name;
      this.dataSource = dataSource;
    }

    /** @param table the table; {@code [A-Za-z0-9_]}, 1 to 64 characters; default {@code giftkit_recheck} @return this builder */
    public Builder table(String table) {
      this.table = Checks.requireMatches("table", table, TABLE, "1 to 64 characters of A-Z, a-z, 0-9 or '_'");
      return this;
    }

    /** @param handler runs each due check; required @return this builder */
    public Builder handler(RecheckHandler handler) {
      this.handler = Checks.requireNonNull("handler", handler);
      return this;
    }

    /** @param maxAttempts attempts before an unsettled check becomes an alert; in [1, 1000]; default 5 @return this builder */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = (int) Checks.requireInRange("maxAttempts", maxAttempts, 1, 1_000);
      return this;
    }

    /** @param delay between attempts; positive; default 30 s @return this builder */
    public Builder retryDelay(Duration delay) {
      this.retryDelay = Checks.requirePositive("retryDelay", delay);
      return this;
    }

    /** @param interval between looks for due checks (a check runs at most this late); positive; default 1 s @return this builder */
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

    /** @param batchSize checks claimed per look; in [1, 1000]; default 50 @return this builder */
    public Builder batchSize(int batchSize) {
      this.batchSize = (int) Checks.requireInRange("batchSize", batchSize, 1, 1_000);
      return this;
    }

    /** @param listener hears every alert this instance raises (guarded: a throwing listener is logged) @return this builder */
    public Builder alertListener(RecheckAlertListener listener) {
      alertListeners.add(Checks.requireNonNull("alertListener", listener));
      return this;
    }

    /** @param clock the wall clock for due times; default UTC system clock @return this builder */
    public Builder clock(Clock clock) {
      this.clock = Checks.requireNonNull("clock", clock);
      return this;
    }

    /**
     * @return the scheduler (not started)
     * @throws io.giftkit.core.InvalidConfigException if no handler was given
     */
    public DelayedRecheck build() {
      Checks.requireNonNull("handler", handler);
      return new DelayedRecheck(this);
    }
  }
}
