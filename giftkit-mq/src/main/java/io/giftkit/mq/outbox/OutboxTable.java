package io.giftkit.mq.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import javax.sql.DataSource;

/**
 * The relay's statements on one source's outbox table. Each method takes a connection of its own from
 * the data source, runs in auto-commit and gives it back: no transaction is held between statements,
 * least of all while the relay waits for the broker. Portable SQL (MariaDB, MySQL 8, H2 in MySQL mode).
 * Thread-safe (stateless apart from the statement texts).
 */
final class OutboxTable {

  /** A claimed row, ready to send. */
  record Row(long id, String topic, String key, byte[] payload, byte[] headers, int attempts) {}

  private final DataSource dataSource;
  private final String table;

  OutboxTable(DataSource dataSource, String table) {
    this.dataSource = dataSource;
    this.table = table;
  }

  /**
   * Claims up to {@code batchSize} due rows for {@code token} until {@code leaseUntil} and returns them
   * in id order. First a look at the due ids (no payloads), then one conditional {@code UPDATE} that
   * claims those still due — a compare-and-set on {@code available_at}: of two relays that saw the
   * same row due, the first update moves it into the future and the second one's condition no longer
   * matches — then the claimed rows (with payloads) are read back by token and lease.
   */
  List<Row> claim(String token, long now, long leaseUntil, int batchSize) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      List<Long> due = new ArrayList<>(batchSize);
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + table
          + " WHERE available_at <= ? ORDER BY id LIMIT " + batchSize)) {
        ps.setLong(1, now);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            due.add(rs.getLong(1));
          }
        }
      }
      if (due.isEmpty()) {
        return List.of();
      }
      String ids = inList(due);
      int claimed;
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + table
          + " SET claimed_by = ?, available_at = ? WHERE id IN " + ids + " AND available_at <= ?")) {
        ps.setString(1, token);
        ps.setLong(2, leaseUntil);
        ps.setLong(3, now);
        claimed = ps.executeUpdate();
      }
      if (claimed == 0) {
        return List.of();
      }
      List<Row> rows = new ArrayList<>(claimed);
      try (PreparedStatement ps = c.prepareStatement("SELECT id, topic, msg_key, payload, headers, attempts FROM "
          + table + " WHERE id IN " + ids + " AND claimed_by = ? AND available_at = ? ORDER BY id")) {
        ps.setString(1, token);
        ps.setLong(2, leaseUntil);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBytes(4), rs.getBytes(5),
                rs.getInt(6)));
          }
        }
      }
      return rows;
    }
  }

  /** Deletes acknowledged rows still claimed by {@code token}, in one statement. */
  void delete(List<Long> ids, String token) throws SQLException {
    if (ids.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "DELETE FROM " + table + " WHERE id IN " + inList(ids) + " AND claimed_by = ?")) {
      c.setAutoCommit(true);
      ps.setString(1, token);
      ps.executeUpdate();
    }
  }

  /** A row's outcome other than "acknowledged". */
  record Outcome(long id, long availableAt, String claimedBy, boolean countAttempt) {}

  /**
   * Writes failed, parked and released rows (still claimed by {@code token}) in one JDBC batch:
   * a new {@code available_at} and {@code claimed_by}, and {@code attempts + 1} where the send was tried.
   */
  void update(List<Outcome> outcomes, String token) throws SQLException {
    if (outcomes.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE " + table
        + " SET attempts = attempts + ?, available_at = ?, claimed_by = ? WHERE id = ? AND claimed_by = ?")) {
      c.setAutoCommit(true);
      for (Outcome o : outcomes) {
        ps.setInt(1, o.countAttempt() ? 1 : 0);
        ps.setLong(2, o.availableAt());
        ps.setString(3, o.claimedBy());
        ps.setLong(4, o.id());
        ps.setString(5, token);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** @return rows not parked (due, waiting for a retry, or claimed) */
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
