package io.giftkit.mq.recheck;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The re-check table and every statement on it, for one scheduler name. Nothing else in the package
 * writes SQL. The statements run on MariaDB, MySQL 8 and H2 2.x in {@code MODE=MySQL}.
 *
 * <p>Table: {@code scheduler, check_key} (primary key), {@code status} ({@code P} pending,
 * {@code A} alerted), {@code due_at} (epoch ms; while claimed, the end of the lease),
 * {@code attempts} (claims so far), {@code owner} (the claiming scheduler's token),
 * {@code reason}, {@code scheduled_at}. Unchanged since the first version.
 *
 * <p>Thread-safe (holds no state but its settings); every method blocks for one statement on a
 * connection of its own, or on the caller's.
 */
final class RecheckStore {

  static final int MAX_KEY = 190;
  static final int MAX_REASON = 1_000;
  static final String PENDING = "P";
  static final String ALERTED = "A";

  private static final Logger LOG = LoggerFactory.getLogger(RecheckStore.class);

  /** A check as read (attempts so far) or as claimed (the attempt now running). */
  record Check(String key, int attempts) {}

  private final String scheduler;
  private final DataSource dataSource;
  private final String table;

  RecheckStore(String scheduler, DataSource dataSource, String table) {
    this.scheduler = scheduler;
    this.dataSource = dataSource;
    this.table = table;
  }

  /** @return a connection of the store's data source (the caller closes it) */
  Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  String table() {
    return table;
  }

  void createTable() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " ("
          + "scheduler VARCHAR(100) NOT NULL, check_key VARCHAR(" + MAX_KEY + ") NOT NULL,"
          + " status CHAR(1) NOT NULL, due_at BIGINT NOT NULL, attempts INT NOT NULL,"
          + " owner VARCHAR(64) NULL, reason VARCHAR(" + MAX_REASON + ") NULL,"
          + " scheduled_at BIGINT NOT NULL, PRIMARY KEY (scheduler, check_key))");
      try {
        s.execute("CREATE INDEX " + table + "_due ON " + table + " (scheduler, status, due_at)");
      } catch (SQLException alreadyThere) {
        LOG.debug("re-check '{}': index on {} not created ({}); it exists", scheduler, table,
            alreadyThere.getMessage());
      }
    }
  }

  /** @return false if the key is already pending or alerted (an integrity violation) */
  boolean insert(Connection connection, String key, long dueAt, long now) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + table
        + " (scheduler, check_key, status, due_at, attempts, scheduled_at) VALUES (?, ?, ?, ?, 0, ?)")) {
      ps.setString(1, scheduler);
      ps.setString(2, key);
      ps.setString(3, PENDING);
      ps.setLong(4, dueAt);
      ps.setLong(5, now);
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("23")) { // integrity constraint: the key is there
        return false;
      }
      throw e;
    }
  }

  boolean delete(Connection connection, String key, String status) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(
        "DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND status = ?")) {
      ps.setString(1, scheduler);
      ps.setString(2, key);
      ps.setString(3, status);
      return ps.executeUpdate() == 1;
    }
  }

  boolean delete(String key, String status) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return delete(c, key, status);
    }
  }

  List<RecheckAlert> alerts() throws SQLException {
    List<RecheckAlert> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT check_key, attempts, reason, due_at FROM " + table
            + " WHERE scheduler = ? AND status = ? ORDER BY due_at LIMIT 1000")) {
      ps.setString(1, scheduler);
      ps.setString(2, ALERTED);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new RecheckAlert(scheduler, rs.getString(1), rs.getInt(2), rs.getString(3),
              Instant.ofEpochMilli(rs.getLong(4))));
        }
      }
    }
    return out;
  }

  long pending() throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM " + table + " WHERE scheduler = ? AND status = ?")) {
      ps.setString(1, scheduler);
      ps.setString(2, PENDING);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** @return up to {@code limit} pending checks due at {@code now}, earliest first; nothing claimed */
  List<Check> due(long now, int limit) throws SQLException {
    List<Check> out = new ArrayList<>();
    try (Connection c = autoCommit(dataSource.getConnection()); PreparedStatement ps = c.prepareStatement(
        "SELECT check_key, attempts FROM " + table
            + " WHERE scheduler = ? AND status = ? AND due_at <= ? ORDER BY due_at LIMIT " + limit)) {
      ps.setString(1, scheduler);
      ps.setString(2, PENDING);
      ps.setLong(3, now);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Check(rs.getString(1), rs.getInt(2)));
        }
      }
    }
    return out;
  }

  /**
   * Claims one check as read: a compare-and-set on (status, due_at, attempts), so of schedulers that
   * read the same row only the first update matches. Sets the owner, counts the attempt and moves
   * the due time to the end of the lease.
   *
   * @return the claimed attempt, or null if another scheduler got there first
   */
  Check claim(Check read, String owner, long now, long leaseEnd) throws SQLException {
    try (Connection c = autoCommit(dataSource.getConnection()); PreparedStatement ps = c.prepareStatement("UPDATE " + table
        + " SET owner = ?, attempts = attempts + 1, due_at = ? WHERE scheduler = ? AND check_key = ?"
        + " AND status = ? AND due_at <= ? AND attempts = ?")) {
      ps.setString(1, owner);
      ps.setLong(2, leaseEnd);
      ps.setString(3, scheduler);
      ps.setString(4, read.key());
      ps.setString(5, PENDING);
      ps.setLong(6, now);
      ps.setInt(7, read.attempts());
      return ps.executeUpdate() == 1 ? new Check(read.key(), read.attempts() + 1) : null;
    }
  }

  /** Deletes a resolved check if this owner still holds this attempt. @return whether it did */
  boolean resolve(Check claimed, String owner) throws SQLException {
    return finish("DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?",
        null, claimed, owner);
  }

  /** Releases the claim, due again at {@code dueAt}, if this owner still holds this attempt. @return whether it did */
  boolean retryAt(Check claimed, String owner, long dueAt, String reason) throws SQLException {
    return finish("UPDATE " + table + " SET owner = NULL, due_at = " + dueAt
        + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?", reason, claimed, owner);
  }

  /** Turns the check into an alert, if this owner still holds this attempt. @return whether it did */
  boolean alert(Check claimed, String owner, long now, String reason) throws SQLException {
    return finish("UPDATE " + table + " SET owner = NULL, status = '" + ALERTED + "', due_at = " + now
        + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?", reason, claimed, owner);
  }

  /** An outcome to write: the check as claimed, what to do, and for a retry its new due time. */
  record Outcome(Check claimed, RecheckResult.Outcome kind, String reason, long at) {}

  /**
   * Writes many outcomes in one transaction (one commit for all), each with the same condition as
   * {@link #resolve}, {@link #retryAt} and {@link #alert}.
   *
   * @return for each outcome, in order, whether this owner still held the attempt (it was written)
   * @throws SQLException if the transaction failed: nothing was written
   */
  boolean[] finishAll(List<Outcome> outcomes, String owner) throws SQLException {
    boolean[] written = new boolean[outcomes.size()];
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        for (int i = 0; i < outcomes.size(); i++) {
          Outcome o = outcomes.get(i);
          String sql = switch (o.kind()) {
            case RESOLVED -> "DELETE FROM " + table + " WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
            case RETRY_LATER -> "UPDATE " + table + " SET owner = NULL, due_at = " + o.at()
                + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
            default -> "UPDATE " + table + " SET owner = NULL, status = '" + ALERTED + "', due_at = " + o.at()
                + ", reason = ? WHERE scheduler = ? AND check_key = ? AND owner = ? AND attempts = ?";
          };
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            int p = 1;
            if (o.kind() != RecheckResult.Outcome.RESOLVED) {
              ps.setString(p++, o.reason());
            }
            ps.setString(p++, scheduler);
            ps.setString(p++, o.claimed().key());
            ps.setString(p++, owner);
            ps.setInt(p, o.claimed().attempts());
            written[i] = ps.executeUpdate() == 1;
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
    return written;
  }

  private boolean finish(String sql, String reason, Check claimed, String owner) throws SQLException {
    try (Connection c = autoCommit(dataSource.getConnection()); PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      if (reason != null) {
        ps.setString(i++, reason);
      }
      ps.setString(i++, scheduler);
      ps.setString(i++, claimed.key());
      ps.setString(i++, owner);
      ps.setInt(i, claimed.attempts());
      return ps.executeUpdate() == 1;
    }
  }

  /** The poller's statements commit one by one whatever the pool's default. */
  private static Connection autoCommit(Connection c) throws SQLException {
    try {
      c.setAutoCommit(true);
      return c;
    } catch (SQLException e) {
      c.close();
      throw e;
    }
  }

  static String truncate(String reason) {
    return reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON - 1) + "…";
  }
}
