package io.giftkit.mq.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import javax.sql.DataSource;

/**
 * The relay's statements on one source's outbox table and its owner table. Each method takes a
 * connection of its own from the data source, runs in auto-commit and gives it back: no transaction is
 * held between statements, least of all while the relay waits for the broker. Portable SQL (MariaDB, MySQL 8, H2 in MySQL mode).
 * Thread-safe (stateless apart from the statement texts).
 */
final class OutboxTable {

  /** A due row, ready to send. */
  record Row(long id, String topic, String key, byte[] payload, byte[] headers, int attempts) {}

  private final DataSource dataSource;
  private final String table;
  private final String ownerTable;

  OutboxTable(DataSource dataSource, Outbox outbox) {
    this.dataSource = dataSource;
    this.table = outbox.table();
    this.ownerTable = outbox.ownerTable();
  }

  /**
   * Takes or renews this table's ownership for {@code token} until {@code leaseUntil}: one conditional
   * {@code UPDATE} of the owner row (a compare-and-set: it matches when {@code token} owns the table
   * already or the last owner's lease has ended), or, on a database where the row does not exist yet,
   * one {@code INSERT} (of two relays inserting at once, the primary key lets one in).
   *
   * @return whether {@code token} owns the table until {@code leaseUntil}
   */
  boolean own(String token, long now, long leaseUntil) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + ownerTable
          + " SET owned_by = ?, lease_until = ? WHERE id = 1 AND (owned_by = ? OR lease_until <= ?)")) {
        ps.setString(1, token);
        ps.setLong(2, leaseUntil);
        ps.setString(3, token);
        ps.setLong(4, now);
        if (ps.executeUpdate() == 1) {
          return true;
        }
      } catch (SQLException e) {
        if ("42S02".equals(e.getSQLState()) || "42102".equals(e.getSQLState())) { // MariaDB/MySQL, H2
          throw new SQLException("the outbox relay's owner table " + ownerTable + " does not exist: run"
              + " Outbox.createTable, or Outbox.ownerDdl() in your migrations (" + e.getMessage() + ")",
              e.getSQLState(), e.getErrorCode(), e);
        }
        throw e;
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + ownerTable
          + " (id, owned_by, lease_until) VALUES (1, ?, ?)")) {
        ps.setString(1, token);
        ps.setLong(2, leaseUntil);
        ps.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (e instanceof SQLIntegrityConstraintViolationException || (e.getSQLState() != null
            && e.getSQLState().startsWith("23"))) {
          return false; // the row exists: another relay owns the table
        }
        throw e;
      }
    }
  }

  /** Ends {@code token}'s ownership now, so that another relay takes the table over at its next look. */
  void release(String token) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "UPDATE " + ownerTable + " SET lease_until = 0 WHERE id = 1 AND owned_by = ?")) {
      c.setAutoCommit(true);
      ps.setString(1, token);
      ps.executeUpdate();
    }
  }

  /** @return up to {@code batchSize} due rows (with payloads), in id order: one {@code SELECT} */
  List<Row> due(long now, int batchSize) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT id, topic, msg_key, payload, headers, attempts FROM " + table
            + " WHERE available_at <= ? ORDER BY id LIMIT " + batchSize)) {
      c.setAutoCommit(true);
      ps.setLong(1, now);
      List<Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBytes(4), rs.getBytes(5),
              rs.getInt(6)));
        }
      }
      return rows;
    }
  }

  /** Deletes acknowledged rows, in one statement. */
  void delete(List<Long> ids) throws SQLException {
    if (ids.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "DELETE FROM " + table + " WHERE id IN " + inList(ids))) {
      c.setAutoCommit(true);
      ps.executeUpdate();
    }
  }

  /** A row's outcome other than "acknowledged". */
  record Outcome(long id, long availableAt, String claimedBy, boolean countAttempt) {}

  /**
   * Writes failed, parked and unsent rows in one JDBC batch: a new {@code available_at} and {@code
   * claimed_by} (the parking reason, else null), and {@code attempts + 1} where the send was tried.
   */
  void update(List<Outcome> outcomes) throws SQLException {
    if (outcomes.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE " + table
        + " SET attempts = attempts + ?, available_at = ?, claimed_by = ? WHERE id = ?")) {
      c.setAutoCommit(true);
      for (Outcome o : outcomes) {
        ps.setInt(1, o.countAttempt() ? 1 : 0);
        ps.setLong(2, o.availableAt());
        ps.setString(3, o.claimedBy());
        ps.setLong(4, o.id());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** @return rows not parked (due, waiting for a retry, or being sent) */
  long pending() throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM " + table + " WHERE available_at < ?")) {
      ps.setLong(1, Outbox.PARKED);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // Ids are longs read from the table, so inlining them is safe; a batch is at most 1,000 of them.
  private static String inList(List<Long> ids) {
    StringJoiner j = new StringJoiner(",", "(", ")");
    for (Long id : ids) {
      j.add(Long.toString(id));
    }
    return j.toString();
  }
}
