package io.giftkit.shard;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures every replica's lag with a heartbeat row, on a daemon thread, and says whether a WEAK
 * read may use a replica.
 *
 * <p>One round per shard with replicas: on the primary (the writable node of the moment) the row
 * {@code id = 1} of the heartbeat table gets {@code beat_at = UTC_TIMESTAMP(6)} unless it is younger
 * than half a check interval (so many instances write about twice per interval in all); each replica's
 * {@code beat_at} is read; then the primary's {@code UTC_TIMESTAMP(6)}. Lag = primary now − replica's
 * beat: both readings of the primary's clock, an upper bound on how far behind the replica is (it
 * holds every transaction committed before the beat it shows). Unknown (no table, unreadable, no
 * primary to compare with) counts as too far behind.
 *
 * <p>A sample ages: a replica is usable at time {@code now} only while
 * {@code lag + (now - sampledAt) <= maxLag}, so a stalled sampler stops replicas from being used
 * after {@code maxLag}, never later. {@link #usable} is one volatile read, no allocation.
 */
final class ReplicaLag implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaLag.class);

  /** Lag that could not be measured. */
  static final long UNKNOWN = -1;
  private static final String EPOCH = "'2000-01-01 00:00:00'";
  private static final int QUERY_TIMEOUT_SECONDS = 2;
  private static final int ER_NO_SUCH_TABLE = 1146;
  private static final int UNMEASURED = 0;
  private static final int WITHIN = 1;
  private static final int OVER = 2;

  /** One measurement: the lag in nanoseconds ({@link #UNKNOWN} if unknown), taken at ticker time {@code sampledAt}. */
  record Sample(long lagNanos, long sampledAt) {}

  private final ShardDataSources dataSources;
  private final ShardNode[][] nodes;
  private final Ticker ticker;
  private final long maxLagNanos;
  private final long checkNanos;
  private final long replicaRetryAfterNanos;
  private final String table;
  private final Listeners<TopologyListener> listeners;
  private final AtomicIntegerArray tableReady;
  private volatile ScheduledExecutorService sampler;

  ReplicaLag(ShardDataSources dataSources, ShardNode[][] nodes, Ticker ticker, Duration maxLag, Duration check,
      Duration replicaRetryAfter, String table, Listeners<TopologyListener> listeners) {
    this.dataSources = dataSources;
    this.nodes = nodes;
    this.ticker = ticker;
    this.maxLagNanos = maxLag.toNanos();
    this.checkNanos = check.toNanos();
    this.replicaRetryAfterNanos = replicaRetryAfter.toNanos();
    this.table = table;
    this.listeners = listeners;
    this.tableReady = new AtomicIntegerArray(nodes.length);
  }

  /** Starts the sampler: a round now, then every check interval. */
  void start() {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-shard-replica-lag");
      t.setDaemon(true);
      return t;
    });
    s.scheduleWithFixedDelay(this::sampleAll, 0, checkNanos, TimeUnit.NANOSECONDS);
    sampler = s;
  }

  Duration maxLag() {
    return Duration.ofNanos(maxLagNanos);
  }

  /** @return whether a WEAK read at ticker time {@code now} may use replica {@code r} */
  boolean usable(ShardNode r, long now) {
    Sample s = r.lag;
    return s != null && s.lagNanos() >= 0 && s.lagNanos() + (now - s.sampledAt()) <= maxLagNanos;
  }

  /** One round over every shard with replicas; never throws (it runs on the sampler thread). */
  void sampleAll() {
    for (int shard = 0; shard < nodes.length; shard++) {
      if (nodes[shard].length < 2) {
        continue;
      }
      try {
        sample(shard);
      } catch (RuntimeException e) {
        LOG.warn("GiftKit: replica lag check of shard {} failed", shard, e);
      }
      if (Thread.currentThread().isInterrupted()) {
        return; // closing
      }
    }
  }

  private void sample(int shard) {
    ShardNode[] ns = nodes[shard];
    int w = dataSources.writerOf(shard);
    Connection primary = null;
    try {
      primary = dataSources.connection(shard, Consistency.STRONG); // follows the topology; fails fast when down or fenced
    } catch (ShardUnavailableException e) {
      LOG.debug("GiftKit: replica lag check of shard {}: no primary to compare with ({})", shard, e.getMessage());
    }
    long[] beats = new long[ns.length];
    long[] at = new long[ns.length];
    long primaryNow = UNKNOWN;
    try (Connection p = primary) {
      if (p != null && beat(shard, p)) {
        return; // the table was just created: replicas cannot have it yet; measure from the next round
      }
      for (int i = 0; i < ns.length; i++) {
        if (i != w) {
          at[i] = ticker.read(); // before the read: the sample's age is never understated
          beats[i] = readBeat(ns[i], at[i]);
        }
      }
      if (p != null) {
        primaryNow = micros(p, "SELECT TIMESTAMPDIFF(MICROSECOND, " + EPOCH + ", UTC_TIMESTAMP(6))");
      }
    } catch (SQLException e) {
      LOG.debug("GiftKit: replica lag check of shard {}: the primary failed", shard, e);
      primaryNow = UNKNOWN;
    }
    for (int i = 0; i < ns.length; i++) {
      if (i != w) {
        long lag = primaryNow == UNKNOWN || beats[i] == UNKNOWN ? UNKNOWN
            : TimeUnit.MICROSECONDS.toNanos(Math.max(0, primaryNow - beats[i]));
        record(ns[i], lag, at[i]);
      }
    }
  }

  /**
   * Writes the primary's beat (creating the table at a shard's first round).
   *
   * @return whether the table was created in this call
   */
  private boolean beat(int shard, Connection p) {
    boolean created = false;
    try (Statement st = p.createStatement()) {
      st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
      if (tableReady.get(shard) == 0) {
        st.executeUpdate("CREATE TABLE IF NOT EXISTS " + table
            + " (id INT NOT NULL PRIMARY KEY, beat_at DATETIME(6) NOT NULL)");
        created = !rowExists(st); // no beat yet: the replicas cannot hold one before the next round
        st.executeUpdate("INSERT IGNORE INTO " + table + " (id, beat_at) VALUES (1, UTC_TIMESTAMP(6))");
        tableReady.set(shard, 1);
      }
      try (PreparedStatement ps = p.prepareStatement("UPDATE " + table + " SET beat_at = UTC_TIMESTAMP(6)"
          + " WHERE id = 1 AND beat_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND")) {
        ps.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
        ps.setLong(1, TimeUnit.NANOSECONDS.toMicros(checkNanos / 2));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      if (e.getErrorCode() == ER_NO_SUCH_TABLE) {
        tableReady.set(shard, 0); // dropped under us: create it again next round
      }
      // a read-only node (a switchover under way) or a failing primary: no beat this round; the
      // replicas' lag then grows, which is the safe direction
      LOG.debug("GiftKit: heartbeat write on shard {} failed", shard, e);
    }
    return created;
  }

  private boolean rowExists(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table + " WHERE id = 1")) {
      return rs.next() && rs.getLong(1) > 0;
    }
  }

  private long readBeat(ShardNode r, long now) {
    if (now - r.unhealthyUntil < 0) {
      return UNKNOWN; // known to be down: WEAK reads skip it anyway; do not wait out its pool here
    }
    Connection c;
    try {
      c = r.pool().getConnection();
    } catch (SQLException e) {
      r.unhealthyUntil = ticker.read() + replicaRetryAfterNanos; // as a failed WEAK read would
      LOG.debug("GiftKit: replica lag check: {} gave no connection", r.describe("replica"), e);
      return UNKNOWN;
    }
    try (c) {
      return micros(c, "SELECT TIMESTAMPDIFF(MICROSECOND, " + EPOCH + ", beat_at) FROM " + table + " WHERE id = 1");
    } catch (SQLException e) {
      LOG.debug("GiftKit: replica lag check: heartbeat unreadable on {}", r.describe("replica"), e);
      return UNKNOWN;
    }
  }

  private static long micros(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
      try (ResultSet rs = st.executeQuery(sql)) {
        if (!rs.next()) {
          return UNKNOWN;
        }
        long v = rs.getLong(1);
        return rs.wasNull() ? UNKNOWN : v;
      }
    }
  }

  private void record(ShardNode r, long lagNanos, long sampledAt) {
    r.lag = new Sample(lagNanos, sampledAt);
    int state = lagNanos < 0 || lagNanos > maxLagNanos ? OVER : WITHIN;
    int before = r.lagState;
    if (state == before || (before == UNMEASURED && state == WITHIN)) {
      r.lagState = state;
      return;
    }
    r.lagState = state;
    Duration lag = lagNanos < 0 ? null : Duration.ofNanos(lagNanos);
    int shard = r.shard;
    String url = r.url;
    if (state == OVER) {
      LOG.warn("GiftKit: {} lags {} (maxReplicaLag {} ms): WEAK reads skip it", r.describe("replica"),
          lag == null ? "by an unknown amount (heartbeat unreadable or no primary to compare with)"
              : "by " + lag.toMillis() + " ms", TimeUnit.NANOSECONDS.toMillis(maxLagNanos));
      listeners.fire(l -> l.onReplicaLagging(shard, url, lag));
    } else {
      LOG.info("GiftKit: {} caught up (lag {} ms): WEAK reads use it again", r.describe("replica"),
          lag.toMillis());
      listeners.fire(l -> l.onReplicaCaughtUp(shard, url, lag));
    }
  }

  /** @return the last measured lag of a replica, or null if unknown or never measured */
  Duration lagOf(ShardNode r) {
    Sample s = r.lag;
    return s == null || s.lagNanos() < 0 ? null : Duration.ofNanos(s.lagNanos());
  }

  @Override
  public void close() {
    ScheduledExecutorService s = sampler;
    if (s == null) {
      return;
    }
    s.shutdownNow();
    try {
      s.awaitTermination(5, TimeUnit.SECONDS); // a round in flight finishes before the pools close
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
