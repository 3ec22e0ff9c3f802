package io.giftkit.shard;

import io.giftkit.core.Checks;
import io.giftkit.core.GiftkitException;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs SQL on the right shard and month table. Statements are templates with a {@code {table}}
 * placeholder, filled with the router's validated physical name (never with user input), and
 * {@code ?} parameters:
 *
 * <pre>{@code
 * ShardedJdbc orders = new ShardedJdbc(router, dataSources);
 * orders.ensureTables("CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
 *     + " amount BIGINT NOT NULL, created_at BIGINT NOT NULL, KEY (uid, created_at))", YearMonth.now(zone), YearMonth.now(zone).plusMonths(1));
 * boolean created = orders.insertIfAbsent(uid, createdAt,
 *     "INSERT IGNORE INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)", orderId, uid, 100, createdAt.toEpochMilli());
 * List<Order> mine = orders.queryMonths(uid, from, to, Consistency.WEAK,
 *     "SELECT * FROM {table} WHERE uid = ? ORDER BY created_at DESC LIMIT ?", Order::from, 20, uid);
 * }</pre>
 *
 * <p>Reads of a month whose table does not exist return no rows; writes to it fail with an error
 * saying so (tables are never created on the write path: use {@link #ensureTables}). Statements
 * slower than {@code slowThreshold} (default 200 ms) go to the {@link SlowSqlListener}s and are
 * logged once per statement template with shard, table and time, never with bound values.
 *
 * <p>Writes follow switchovers: a write refused by a read-only node (error 1290) applied nothing, so
 * the shard's writable node is looked up and the statement, the whole transaction or the batch
 * group runs again there ({@link #writeAttempts}, {@link #switchoverWait}). Errors say whether a
 * retry is safe ({@link ShardWriteException#safeToRetry()}) or the outcome is unknown
 * ({@link ShardWriteException#outcomeUnknown()}).
 *
 * <p>WEAK reads go to a replica (see {@link ShardDataSources}); with {@link #readYourWrites}, a
 * uid's WEAK reads go to the primary for a while after a write for that uid.
 *
 * <p>With {@link #slowSqlBreaker} (off by default), a statement template whose calls on a shard are
 * too often slow fails fast there with {@link SlowSqlRejectedException} for a cooldown, while other
 * templates and other shards keep running.
 *
 * <p>Thread-safe. Every method blocks on JDBC. This facade is past 400 lines because of the javadoc
 * of its public methods; the work is done by package-private parts ({@code SwitchoverRetry},
 * {@code Transactions}, {@code MonthTables}, {@code RecentWriters}, {@code SlowSqlBreakers}).
 */
public final class ShardedJdbc {

  /** Default slow-statement threshold: 200 ms. */
  public static final Duration DEFAULT_SLOW_THRESHOLD = Duration.ofMillis(200);
  /** Default bound on the months one cross-month query fans out to: 12. */
  public static final int DEFAULT_MAX_MONTHS = 12;
  /** Default attempts of one write while read-only nodes refuse it (a switchover), the first included: 3. */
  public static final int DEFAULT_WRITE_ATTEMPTS = 3;
  /** Default time one write waits, in all, for a writable node after a refusal: 2 s. */
  public static final Duration DEFAULT_SWITCHOVER_WAIT = Duration.ofSeconds(2);
  /** Default size of the read-your-writes table of recent writers: 65,536 slots. */
  public static final int DEFAULT_READ_YOUR_WRITES_SLOTS = 1 << 16;

  private static final Logger LOG = LoggerFactory.getLogger(ShardedJdbc.class);
  private static final int ER_NO_SUCH_TABLE = 1146;

  private final ShardRouter router;
  private final ShardDataSources nodes;
  private final Ticker ticker;
  private final SwitchoverRetry switchover;
  private final MonthTables tables;
  private volatile long slowNanos = DEFAULT_SLOW_THRESHOLD.toNanos();
  private volatile int maxMonths = DEFAULT_MAX_MONTHS;
  private final Listeners<SlowSqlListener> slowListeners = Listeners.create("ShardedJdbc slow SQL");
  private final Set<String> slowLogged = ConcurrentHashMap.newKeySet();
  private volatile RecentWriters recentWriters; // null: read-your-writes off
  private final LongAdder readYourWritesReads = new LongAdder();
  private final Listeners<SlowSqlBreakerListener> breakerListeners = Listeners.create("ShardedJdbc slow-SQL breaker");
  private volatile SlowSqlBreakers slowBreakers; // null: the slow-SQL breaker is off

  /**
   * @param router routes rows to shard and table
   * @param nodes the shards' pools; must have as many shards as the router
   */
  public ShardedJdbc(ShardRouter router, ShardDataSources nodes) {
    this(router, nodes, Ticker.system());
  }

  /**
   * @param router routes rows to shard and table
   * @param nodes the shards' pools; must have as many shards as the router
   * @param ticker times statements
   */
  public ShardedJdbc(ShardRouter router, ShardDataSources nodes, Ticker ticker) {
    this.router = Checks.requireNonNull("router", router);
    this.nodes = Checks.requireNonNull("nodes", nodes);
    this.ticker = Checks.requireNonNull("ticker", ticker);
    this.switchover = new SwitchoverRetry(nodes, ticker);
    this.tables = new MonthTables(router, nodes);
    if (router.shards() != nodes.shards()) {
      throw Checks.invalid("nodes", "must have as many shards as the router (" + router.shards() + ")", nodes.shards());
    }
  }

  /**
   * @param threshold statements slower than this are reported; positive
   * @return this
   */
  public ShardedJdbc slowThreshold(Duration threshold) {
    this.slowNanos = Checks.requirePositive("slowThreshold", threshold).toNanos();
    return this;
  }

  /**
   * @param months the most month tables one cross-month query reads; in [1, 120]
   * @return this
   */
  public ShardedJdbc maxMonths(int months) {
    this.maxMonths = (int) Checks.requireInRange("maxMonths", months, 1, 120);
    return this;
  }

  /**
   * @param attempts attempts of one write (statement, transaction, batch group) while read-only
   *     nodes refuse it, the first included; in [1, 10]; default 3
   * @return this
   */
  public ShardedJdbc writeAttempts(int attempts) {
    switchover.attempts((int) Checks.requireInRange("writeAttempts", attempts, 1, 10));
    return this;
  }

  /**
   * @param wait how long one write waits, in all, for a node of its shard to become writable after
   *     a refusal (the old primary read-only, the new one not yet promoted); positive, at most 1 min;
   *     default 2 s
   * @return this
   */
  public ShardedJdbc switchoverWait(Duration wait) {
    Checks.requirePositive("switchoverWait", wait);
    if (wait.compareTo(Duration.ofMinutes(1)) > 0) {
      throw Checks.invalid("switchoverWait", "must be at most 1 min", wait);
    }
    switchover.waitFor(wait);
    return this;
  }

  /**
   * Read-your-writes with {@value #DEFAULT_READ_YOUR_WRITES_SLOTS} slots; see
   * {@link #readYourWrites(Duration, int)}.
   *
   * @param window how long after a write for a uid its WEAK reads go to the primary; positive, at most 1 h
   * @return this
   */
  public ShardedJdbc readYourWrites(Duration window) {
    return readYourWrites(window, DEFAULT_READ_YOUR_WRITES_SLOTS);
  }

  /**
   * Turns on read-your-writes (off by default): after a write for uid X through this instance
   * ({@link #update}, {@link #insertIfAbsent}, {@link #inTransaction}, {@link #batchInsert}; recorded
   * when the call returns or throws, since a failed write may have been applied), WEAK
   * {@link #query} and {@link #queryMonths} for uid X go to the shard's primary until {@code window}
   * has passed, and fail as STRONG reads do if it cannot serve them. Other uids keep reading replicas.
   * With {@link ShardDataSources.Builder#maxReplicaLag} set and {@code window >= maxReplicaLag}, the
   * writer's WEAK reads after the window are served only by replicas that hold the write.
   *
   * <p>Memory is bounded by {@code slots}: uids are hashed into a fixed table, and two recent writers
   * sharing a slot both read the primary until the later deadline (an extra primary read, never a
   * missed write). Recent writers are remembered in this instance only. Configure before use:
   * calling it again starts an empty table.
   *
   * @param window how long after a write for a uid its WEAK reads go to the primary; positive, at most 1 h
   * @param slots the size of the table of recent writers; a power of two in [16, 2^24] (about 36 bytes each when used)
   * @return this
   */
  public ShardedJdbc readYourWrites(Duration window, int slots) {
    Checks.requirePositive("readYourWrites", window);
    if (window.compareTo(Duration.ofHours(1)) > 0) {
      throw Checks.invalid("readYourWrites", "must be at most 1h", window);
    }
    if (slots < 16 || slots > 1 << 24 || Integer.bitCount(slots) != 1) {
      throw Checks.invalid("readYourWritesSlots", "must be a power of two in [16, 16777216]", slots);
    }
    this.recentWriters = new RecentWriters(window.toNanos(), slots, ticker);
    return this;
  }

  /** @return the read-your-writes window, or {@link Duration#ZERO} if read-your-writes is off */
  public Duration readYourWritesWindow() {
    RecentWriters r = recentWriters;
    return r == null ? Duration.ZERO : Duration.ofNanos(r.windowNanos());
  }

  /** @return how many WEAK reads went to the primary because their uid wrote within the read-your-writes window */
  public long readYourWritesReads() {
    return readYourWritesReads.sum();
  }

  /** @return how many write attempts were re-run on a new primary after a read-only node refused them */
  public long switchoverRetries() {
    return switchover.retries();
  }

  /** @param listener hears slow statements */
  public void addSlowSqlListener(SlowSqlListener listener) {
    slowListeners.add(listener);
  }

  /**
   * Turns on the slow-SQL breaker (off by default): per (statement template, shard), once the
   * window holds {@code minimumCalls} calls of which at least {@code slowCallRateThreshold} percent
   * took {@link #slowThreshold} or longer, calls of that template on that shard fail at once with
   * {@link SlowSqlRejectedException} (no connection taken, nothing run) for {@code openDuration};
   * then {@code halfOpenProbes} calls decide. Guards {@link #update}, {@link #insertIfAbsent},
   * {@link #query}, {@link #queryMonths} and {@link #batchInsert}; not {@link #inTransaction}, whose
   * statements are the callback's. Configure before use: calling it again starts afresh.
   *
   * @param config the breaker's settings
   * @return this
   */
  public ShardedJdbc slowSqlBreaker(SlowSqlBreakerConfig config) {
    Checks.requireNonNull("slowSqlBreaker", config);
    this.slowBreakers = new SlowSqlBreakers(config, router.shards(), ticker, breakerListeners);
    return this;
  }

  /** @return the slow-SQL breaker's settings, or empty while it is off */
  public java.util.Optional<SlowSqlBreakerConfig> slowSqlBreakerConfig() {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? java.util.Optional.empty() : java.util.Optional.of(b.config());
  }

  /** @param listener hears the slow-SQL breakers' state changes (guarded: a throwing listener never breaks a call) */
  public void addSlowSqlBreakerListener(SlowSqlBreakerListener listener) {
    breakerListeners.add(listener);
  }

  /** @return every (template, shard) whose slow-SQL breaker is OPEN or HALF_OPEN now; empty while off */
  public List<SlowSqlBreakerSnapshot> slowSqlBreakerSnapshots() {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? List.of() : b.notClosed();
  }

  /**
   * @param shard a shard
   * @return how many templates' slow-SQL breakers on it are OPEN or HALF_OPEN now (0 while off)
   */
  public int slowSqlBreakersNotClosed(int shard) {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? 0 : b.notClosed(shard);
  }

  /**
   * Closes the slow-SQL breakers of a template on every shard, with empty windows: an operator's
   * override once the cause is fixed (the breakers also close by themselves, through their probes).
   *
   * @param template the template as passed to the calls or as snapshots and exceptions show it
   *     (whitespace collapsed)
   * @return how many (template, shard) breakers were OPEN or HALF_OPEN; 0 while the breaker is off
   */
  public int resetSlowSqlBreaker(String template) {
    Checks.requireNonNull("template", template);
    SlowSqlBreakers b = slowBreakers;
    return b == null ? 0 : b.forceClose(template);
  }

  /** @return calls refused by the slow-SQL breakers */
  public long slowSqlRejections() {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? 0 : b.rejections();
  }

  /** @return how many times a slow-SQL breaker opened (from CLOSED or HALF_OPEN) */
  public long slowSqlBreakerTrips() {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? 0 : b.trips();
  }

  /** @return calls of templates beyond {@code maxTemplates}, which ran unguarded */
  public long slowSqlBreakerUntracked() {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? 0 : b.untracked();
  }

  /**
   * Runs an INSERT/UPDATE/DELETE on the primary of the row's shard, in the row's month table.
   *
   * @param uid the user the row belongs to
   * @param at the row's time (its month picks the table)
   * @param sql the template, with {@code {table}}
   * @param params bound to the {@code ?}s
   * @return the update count
   * @throws ShardWriteException if the statement fails (the message names shard and table); a write
   *     refused by a read-only node is retried on the shard's new writable node first
   * @throws ShardUnavailableException if the shard's primary gives no connection or the shard is
   *     fenced for a split brain
   * @throws SlowSqlRejectedException if the template's slow-SQL breaker on the shard is open (nothing was run)
   */
  public int update(long uid, Instant at, String sql, Object... params) {
    Route route = router.route(uid, at);
    long permit = admit(sql, route.shard());
    try {
      return switchover.run(route, "write", false, c -> executeUpdate(c, route, sql, params, permit));
    } finally {
      wrote(uid);
    }
  }

  /**
   * Inserts a row unless one with the same unique key exists (write the statement as
   * {@code INSERT IGNORE} or {@code INSERT … ON DUPLICATE KEY UPDATE id = id}; both work on MariaDB
   * and MySQL 8). A retry of the same insert never creates a second row.
   *
   * @param uid the user
   * @param at the row's time
   * @param sql the insert template, with {@code {table}}
   * @param params bound to the {@code ?}s
   * @return whether the row was new
   */
  public boolean insertIfAbsent(long uid, Instant at, String sql, Object... params) {
    return update(uid, at, sql, params) == 1;
  }

  /**
   * Reads rows of one user in one month.
   *
   * @param <T> the row type
   * @param uid the user
   * @param at a time in the month to read
   * @param consistency STRONG (primary) or WEAK (a replica; the primary for a uid that wrote within the
   *     {@link #readYourWrites read-your-writes} window)
   * @param sql the template, with {@code {table}}
   * @param mapper maps each row
   * @param params bound to the {@code ?}s
   * @return the rows; none if the month's table does not exist
   * @throws SlowSqlRejectedException if the template's slow-SQL breaker on the shard is open (nothing was run)
   */
  public <T> List<T> query(long uid, Instant at, Consistency consistency, String sql, RowMapper<T> mapper,
      Object... params) {
    Route route = router.route(uid, at);
    long permit = admit(sql, route.shard());
    try (Connection c = nodes.connection(route.shard(), readConsistency(uid, consistency))) {
      return executeQuery(c, route, sql, mapper, Integer.MAX_VALUE, params, permit);
    } catch (SQLException e) {
      throw new ShardWriteException("query on shard " + route.shard() + " table " + route.table() + " failed: "
          + e.getMessage(), e);
    }
  }

  /**
   * Reads one user's rows across months, newest month first, stopping once {@code limit} rows are
   * collected: each month's statement should order newest first and take {@code LIMIT ?} as its
   * last parameter (GiftKit binds the rows still needed). For further pages, use keyset pagination
   * (e.g. {@code created_at < ?} with the last row's time), never offsets.
   *
   * @param <T> the row type
   * @param uid the user
   * @param from the oldest month to read
   * @param to the newest month to read; at most {@code maxMonths} months after {@code from}
   * @param consistency STRONG or WEAK (as in {@link #query})
   * @param sql the template, with {@code {table}}, ending in {@code LIMIT ?}
   * @param mapper maps each row
   * @param limit the most rows; positive
   * @param params bound to the {@code ?}s before the limit
   * @return up to {@code limit} rows, newest month first
   * @throws SlowSqlRejectedException if the template's slow-SQL breaker on the shard is open (nothing was run)
   */
  public <T> List<T> queryMonths(long uid, YearMonth from, YearMonth to, Consistency consistency, String sql,
      RowMapper<T> mapper, int limit, Object... params) {
    Checks.requireNonNull("from", from);
    Checks.requireNonNull("to", to);
    Checks.requirePositive("limit", limit);
    long months = from.until(to, java.time.temporal.ChronoUnit.MONTHS) + 1;
    if (months < 1 || months > maxMonths) {
      throw Checks.invalid("months from " + from + " to " + to, "must be 1 to " + maxMonths + " months", months);
    }
    int shard = router.shardOf(uid);
    long permit = admit(sql, shard);
    List<T> rows = new ArrayList<>();
    Object[] withLimit = java.util.Arrays.copyOf(params, params.length + 1);
    try (Connection c = nodes.connection(shard, readConsistency(uid, consistency))) {
      for (YearMonth m = to; !m.isBefore(from) && rows.size() < limit; m = m.minusMonths(1)) {
        Route route = new Route(shard, router.table(m), m.getYear() * 100 + m.getMonthValue());
        withLimit[params.length] = limit - rows.size();
        rows.addAll(executeQuery(c, route, sql, mapper, limit - rows.size(), withLimit, permit));
      }
    } catch (SQLException e) {
      throw new ShardWriteException("cross-month query on shard " + shard + " failed: " + e.getMessage(), e);
    }
    return rows;
  }

  /** Work done in one transaction on a shard's primary. */
  @FunctionalInterface
  public interface TransactionWork<T> {
    /**
     * @param connection the primary's connection, auto-commit off
     * @param route the row's shard and table (use {@code route.table()} in SQL)
     * @return the result
     * @throws SQLException to roll back
     */
    T run(Connection connection, Route route) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction on the primary of the row's shard: every statement in it,
   * reads included, goes to the primary. Commits when it returns, rolls back when it throws.
   *
   * <p>If a read-only node refuses a statement or the commit (a switchover), nothing of the attempt
   * was committed: the shard's writable node is looked up and {@code work} runs again, whole, on a
   * new connection to it (at most {@code writeAttempts} times, waiting at most
   * {@code switchoverWait} for a writable node). So {@code work} may run more than once: do the
   * work through {@code connection}, keep other side effects idempotent or after this method
   * returns, and let {@link SQLException}s propagate (wrapping them is fine). A commit that fails
   * otherwise (the connection dropped) is never re-run: its outcome is unknown.
   *
   * @param <T> the result type
   * @param uid the user
   * @param at the row's time
   * @param work the work
   * @return what the work returned
   * @throws ShardWriteException if the work throws an {@link SQLException} or the commit fails; see
   *     {@link ShardWriteException#safeToRetry()} and {@link ShardWriteException#outcomeUnknown()}
   * @throws ShardUnavailableException if the shard's primary gives no connection or the shard is
   *     fenced for a split brain (nothing was written)
   */
  public <T> T inTransaction(long uid, Instant at, TransactionWork<T> work) {
    Route route = router.route(uid, at);
    try {
      return transaction(route, work);
    } finally {
      wrote(uid);
    }
  }

  private <T> T transaction(Route route, TransactionWork<T> work) {
    return switchover.run(route, "transaction", true, c -> {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        T result;
        try {
          result = work.run(c, route);
        } catch (SQLException | RuntimeException | Error e) {
          Transactions.rollbackQuietly(c, e);
          throw e;
        }
        Transactions.commit(c, route, "transaction");
        return result;
      } finally {
        Transactions.restoreAutoCommit(c, autoCommit);
      }
    });
  }

  /** Binds one row's parameters. */
  @FunctionalInterface
  public interface RowBinder<T> {
    /**
     * @param row the row
     * @return the values for the statement's {@code ?}s, in order
     */
    Object[] params(T row);
  }

  /**
   * Inserts many rows, grouped by shard and month: one JDBC batch in one transaction per (shard,
   * table) group, so a group is written whole or not at all. A group refused by a read-only node (a
   * switchover) runs again, whole, on the shard's new writable node.
   *
   * @param <T> the row type
   * @param rows the rows
   * @param uidOf each row's user
   * @param timeOf each row's time
   * @param sql the insert template, with {@code {table}}
   * @param binder each row's parameters
   * @return rows inserted (per the driver's batch counts)
   * @throws ShardWriteException if a group fails; a group refused by a read-only node is first re-run
   *     on the shard's new writable node. Groups before the failing one stay committed: then
   *     {@link ShardWriteException#safeToRetry()} is false and the message says how many rows were
   * @throws SlowSqlRejectedException if the template's slow-SQL breaker on the first group's shard is
   *     open (nothing was run); on a later group's shard, a {@link ShardWriteException} caused by it,
   *     as for any later group that fails
   */
  public <T> int batchInsert(List<T> rows, java.util.function.ToLongFunction<T> uidOf,
      java.util.function.Function<T, Instant> timeOf, String sql, RowBinder<T> binder) {
    java.util.Map<Route, List<T>> groups = new java.util.LinkedHashMap<>();
    for (T row : rows) {
      groups.computeIfAbsent(router.route(uidOf.applyAsLong(row), timeOf.apply(row)), r -> new ArrayList<>()).add(row);
    }
    int inserted = 0;
    int groupsDone = 0;
    for (java.util.Map.Entry<Route, List<T>> group : groups.entrySet()) {
      Route route = group.getKey();
      try {
        long permit = admit(sql, route.shard());
        inserted += switchover.run(route, "batch insert", true,
            c -> insertGroup(c, route, sql, group.getValue(), binder, permit));
      } catch (SlowSqlRejectedException e) {
        if (groupsDone == 0) {
          throw e;
        }
        throw new ShardWriteException(e.getMessage() + ". " + groupsDone + " earlier (shard, month) group(s), " + inserted
            + " row(s), were committed before this one: retry the whole batch only if its inserts ignore duplicates",
            e, false, false);
      } catch (ShardWriteException e) {
        wroteAll(group.getValue(), uidOf); // the failed group may have been applied (outcome unknown)
        if (groupsDone == 0) {
          throw e;
        }
        throw new ShardWriteException(e.getMessage() + ". " + groupsDone + " earlier (shard, month) group(s), " + inserted
            + " row(s), were committed before this one: retry the whole batch only if its inserts ignore duplicates",
            e, false, e.outcomeUnknown());
      }
      wroteAll(group.getValue(), uidOf);
      groupsDone++;
    }
    return inserted;
  }

  private <T> void wroteAll(List<T> rows, java.util.function.ToLongFunction<T> uidOf) {
    if (recentWriters != null) {
      for (T row : rows) {
        wrote(uidOf.applyAsLong(row));
      }
    }
  }

  private void wrote(long uid) {
    RecentWriters r = recentWriters;
    if (r != null) {
      r.wrote(uid);
    }
  }

  /** WEAK becomes STRONG for a uid that wrote within the read-your-writes window. */
  private Consistency readConsistency(long uid, Consistency requested) {
    RecentWriters r = recentWriters;
    if (requested == Consistency.WEAK && r != null && r.recent(uid, ticker.read())) {
      readYourWritesReads.increment();
      return Consistency.STRONG;
    }
    return requested;
  }

  private <T> int insertGroup(Connection c, Route route, String sql, List<T> rows, RowBinder<T> binder, long permit)
      throws SQLException {
    String filled = fill(sql, route);
    c.setAutoCommit(false);
    long start = ticker.read();
    try {
      int inserted = 0;
      try (PreparedStatement ps = c.prepareStatement(filled)) {
        for (T row : rows) {
          bind(ps, binder.params(row));
          ps.addBatch();
        }
        for (int n : ps.executeBatch()) {
          inserted += n == Statement.SUCCESS_NO_INFO ? 1 : Math.max(0, n);
        }
      } catch (SQLException | RuntimeException e) {
        Transactions.rollbackQuietly(c, e);
        throw e;
      }
      Transactions.commit(c, route, "batch insert");
      return inserted;
    } finally {
      Transactions.restoreAutoCommit(c, true);
      finished(route, sql, ticker.read() - start, permit);
    }
  }

  /**
   * Drops (or, with an {@code archivePrefix}, renames to {@code <archivePrefix><table>}) the month
   * tables older than {@code keepMonths} months before {@code now}'s month, on every shard. Only
   * tables of the router's pattern are touched; nothing happens unless you call it.
   *
   * @param now the current time
   * @param keepMonths how many months to keep, the current one included; at least 2
   * @param lookBackMonths how far back to look for old tables; in [1, 240]
   * @param archivePrefix null to drop, else the prefix for archived tables ({@code [A-Za-z0-9_]})
   * @return how many tables were dropped or archived
   */
  public int retire(Instant now, int keepMonths, int lookBackMonths, String archivePrefix) {
    return tables.retire(now, keepMonths, lookBackMonths, archivePrefix);
  }

  /**
   * Runs {@link #ensureTables} for the current and next month now and then every {@code interval}
   * on a daemon thread, logging (not throwing) failures; close the returned handle to stop.
   *
   * @param ddlTemplate the {@code CREATE TABLE IF NOT EXISTS {table} (…)} statement
   * @param interval how often; positive (an hour is plenty: tables are created a month ahead)
   * @param clock the current time
   * @return a handle that stops the schedule when closed
   */
  public AutoCloseable scheduleTableLifecycle(String ddlTemplate, Duration interval, java.time.Clock clock) {
    return tables.schedule(ddlTemplate, interval, clock);
  }

  /**
   * Creates the tables of the given months on every shard's primary, if they do not exist. Safe to
   * run at every start-up and from several instances at once. A shard that fails does not stop the
   * others: every reachable shard gets its tables, then the first failure is thrown with the others
   * suppressed in it.
   *
   * @param ddlTemplate a {@code CREATE TABLE IF NOT EXISTS {table} (…)} statement
   * @param months the months, e.g. this one and the next
   * @return how many (shard, table) pairs were ensured
   */
  public int ensureTables(String ddlTemplate, YearMonth... months) {
    return tables.ensure(ddlTemplate, months);
  }

  private int executeUpdate(Connection c, Route route, String sql, Object[] params, long permit) throws SQLException {
    String filled = fill(sql, route);
    long start = ticker.read();
    try (PreparedStatement ps = c.prepareStatement(filled)) {
      bind(ps, params);
      return ps.executeUpdate();
    } catch (SQLException e) {
      if (e.getErrorCode() == ER_NO_SUCH_TABLE) {
        throw new ShardWriteException("table " + route.table() + " does not exist on shard " + route.shard()
            + "; create month tables ahead with ensureTables (the write path never creates them)", e);
      }
      throw e;
    } finally {
      finished(route, sql, ticker.read() - start, permit);
    }
  }

  private <T> List<T> executeQuery(Connection c, Route route, String sql, RowMapper<T> mapper, int max,
      Object[] params, long permit) throws SQLException {
    String filled = fill(sql, route);
    long start = ticker.read();
    List<T> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(filled)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next() && rows.size() < max) {
          rows.add(mapper.map(rs));
        }
      }
    } catch (SQLException e) {
      if (e.getErrorCode() == ER_NO_SUCH_TABLE) {
        return rows; // no table for that month: no rows
      }
      throw e;
    } finally {
      finished(route, sql, ticker.read() - start, permit);
    }
    return rows;
  }

  private static String fill(String sql, Route route) {
    Objects.requireNonNull(sql, "sql");
    if (!sql.contains("{table}")) {
      throw Checks.invalid("sql", "must contain the {table} placeholder", "\"" + sql + "\"");
    }
    return sql.replace("{table}", route.table()); // the router's validated name, never user input
  }

  private static void bind(PreparedStatement ps, Object[] params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      ps.setObject(i + 1, params[i]);
    }
  }

  /** Asks the template's slow-SQL breaker on the shard, if on, to let a call run. */
  private long admit(String sql, int shard) {
    SlowSqlBreakers b = slowBreakers;
    return b == null ? SlowSqlBreakers.UNGUARDED : b.acquire(Objects.requireNonNull(sql, "sql"), shard, slowNanos);
  }

  private void finished(Route route, String sql, long nanos, long permit) {
    SlowSqlBreakers b = slowBreakers;
    if (b != null && permit != SlowSqlBreakers.UNGUARDED) {
      b.record(sql, route.shard(), permit, nanos >= slowNanos);
    }
    reportIfSlow(route, sql, nanos);
  }

  private void reportIfSlow(Route route, String sql, long nanos) {
    if (nanos < slowNanos) {
      return;
    }
    String fingerprint = sql.replaceAll("\\s+", " ").trim();
    Duration elapsed = Duration.ofNanos(nanos);
    if (slowLogged.size() < 10_000 && slowLogged.add(fingerprint)) {
      LOG.warn("GiftKit slow SQL: {} ms on shard {} table {}: {} (logged once per statement)",
          elapsed.toMillis(), route.shard(), route.table(), fingerprint);
    }
    slowListeners.fire(l -> l.onSlowSql(route.shard(), route.table(), elapsed, fingerprint));
  }


  /**
   * A statement on a shard failed; the message names the shard and table and, where it matters,
   * whether the write may have been applied.
   */
  public static final class ShardWriteException extends GiftkitException {
    private static final long serialVersionUID = 1L;

    private final boolean safeToRetry;
    private final boolean outcomeUnknown;

    ShardWriteException(String message, Throwable cause) {
      this(message, cause, false, false);
    }

    ShardWriteException(String message, Throwable cause, boolean safeToRetry, boolean outcomeUnknown) {
      super(message, cause);
      this.safeToRetry = safeToRetry;
      this.outcomeUnknown = outcomeUnknown;
    }

    /**
     * @return true if nothing of the failed call was applied and the failure is one a later retry
     *     can get past (writes refused during a switchover longer than the retries, a connection
     *     lost before COMMIT): re-running the whole call cannot apply anything twice
     */
    public boolean safeToRetry() {
      return safeToRetry;
    }

    /**
     * @return true if the failure came while the write was being committed (a COMMIT, or a single
     *     auto-committed statement, whose connection failed): it may or may not have been applied,
     *     so check before retrying
     */
    public boolean outcomeUnknown() {
      return outcomeUnknown;
    }
  }
}
