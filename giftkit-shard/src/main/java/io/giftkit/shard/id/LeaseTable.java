package io.giftkit.shard.id;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import javax.sql.DataSource;

/**
 * The SQL of the worker-lease table, and nothing else. Every statement is plain SQL that MariaDB
 * 10.6+, MySQL 8 and H2 2.x ({@code MODE=MySQL}) all accept: no {@code UPDATE … LIMIT}, no
 * {@code ON DUPLICATE KEY}, no {@code INSERT IGNORE}. Each call runs in autocommit mode on its own
 * connection from the {@link DataSource}. Thread-safe; every method blocks on the database.
 *
 * <p>Ownership is decided by conditional {@code UPDATE}s alone: a claim is a compare-and-set of the
 * row as it was read (same {@code reserved_until}, lease still expired or free), a renewal and a
 * release are conditional on {@code owner} and on the {@code reserved_until} this holder last wrote.
 * Only the statement that changed the row (update count 1) wins.
 */
final class LeaseTable {

  /** Worker ids are 0 … {@value}-1. */
  static final int WORKERS = 1024;

  private final DataSource dataSource;
  private final String table;
  private final int queryTimeoutSeconds;

  LeaseTable(DataSource dataSource, String table, int queryTimeoutSeconds) {
    this.dataSource = dataSource;
    this.table = table;
    this.queryTimeoutSeconds = queryTimeoutSeconds;
  }

  String name() {
    return table;
  }

  String ddl() {
    return "CREATE TABLE IF NOT EXISTS " + table + " ("
        + "worker_id INT NOT NULL PRIMARY KEY, "
        + "owner VARCHAR(128) NULL, "
        + "lease_until BIGINT NOT NULL, "
        + "reserved_until BIGINT NOT NULL)";
  }

  /**
   * Creates the table if it does not exist and inserts the rows 0 … 1023 that are missing (free,
   * {@code lease_until = 0}, {@code reserved_until = 0}). Safe when instances race: the missing rows
   * go in one multi-row INSERT, which is atomic; if a racing instance inserted some of them first,
   * the INSERT fails with an integrity violation and the missing rows are read again.
   *
   * @return the number of rows this call inserted
   */
  int create() throws SQLException {
    return inAutoCommit(c -> createIn(c));
  }

  private int createIn(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(queryTimeoutSeconds);
      s.execute(ddl());
      for (int attempt = 1; ; attempt++) {
        BitSet present = new BitSet(WORKERS);
        try (ResultSet rs = s.executeQuery("SELECT worker_id FROM " + table)) {
          while (rs.next()) {
            int w = rs.getInt(1);
            if (w >= 0 && w < WORKERS) {
              present.set(w);
            }
          }
        }
        int missing = WORKERS - present.cardinality();
        if (missing == 0) {
          return 0;
        }
        StringBuilder insert = new StringBuilder(64 + missing * 20)
            .append("INSERT INTO ").append(table)
            .append(" (worker_id, owner, lease_until, reserved_until) VALUES ");
        boolean first = true;
        for (int w = present.nextClearBit(0); w < WORKERS; w = present.nextClearBit(w + 1)) {
          insert.append(first ? "" : ", ").append('(').append(w).append(", NULL, 0, 0)");
          first = false;
        }
        try {
          return s.executeUpdate(insert.toString());
        } catch (SQLException e) {
          if (!isIntegrityViolation(e) || attempt >= 5) {
            throw e;
          }
          // Another instance inserted some of these rows at the same time: read again.
        }
      }
    }
  }

  /** A row as read before a claim. */
  record Row(int workerId, String owner, long leaseUntil, long reservedUntil) {}

  /**
   * Reads up to {@code max} rows that are free or whose lease expired before {@code now}, lowest
   * worker id first.
   */
  List<Row> claimable(long now, int max) throws SQLException {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT worker_id, owner, lease_until, reserved_until FROM " + table
                + " WHERE owner IS NULL OR lease_until < ? ORDER BY worker_id")) {
      ps.setQueryTimeout(queryTimeoutSeconds);
      ps.setMaxRows(max);
      ps.setLong(1, now);
      List<Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
        }
      }
      return rows;
    }
  }

  /** Counts the rows and the rows whose lease is held at {@code now}: for error messages. */
  long[] census(long now) throws SQLException {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT COUNT(*), SUM(CASE WHEN owner IS NOT NULL AND lease_until >= ? THEN 1 ELSE 0 END)"
                + " FROM " + table)) {
      ps.setQueryTimeout(queryTimeoutSeconds);
      ps.setLong(1, now);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new long[] {rs.getLong(1), rs.getLong(2)};
      }
    }
  }

  /**
   * Claims a row read by {@link #claimable}: succeeds only if nobody wrote its reservation since and
   * it is still free or expired at {@code now}.
   *
   * @return true if this call took the row
   */
  boolean claim(Row row, String owner, long now, long leaseUntil, long reservedUntil)
      throws SQLException {
    return update(
        "UPDATE " + table + " SET owner = ?, lease_until = ?, reserved_until = ?"
            + " WHERE worker_id = ? AND reserved_until = ? AND (owner IS NULL OR lease_until < ?)",
        owner, leaseUntil, reservedUntil, row.workerId(), row.reservedUntil(), now);
  }

  /**
   * Extends the lease and the reservation, if this holder still owns the row.
   *
   * @return true if the row was updated; false if the lease was lost
   */
  boolean renew(int workerId, String owner, long lastReserved, long leaseUntil, long reservedUntil)
      throws SQLException {
    return update(
        "UPDATE " + table + " SET lease_until = ?, reserved_until = ?"
            + " WHERE worker_id = ? AND owner = ? AND reserved_until = ?",
        leaseUntil, reservedUntil, workerId, owner, lastReserved);
  }

  /**
   * Frees the row, leaving {@code highWater} as its reservation, if this holder still owns it.
   *
   * @return true if the row was released
   */
  boolean release(int workerId, String owner, long lastReserved, long highWater)
      throws SQLException {
    return update(
        "UPDATE " + table + " SET owner = NULL, lease_until = 0, reserved_until = ?"
            + " WHERE worker_id = ? AND owner = ? AND reserved_until = ?",
        highWater, workerId, owner, lastReserved);
  }

  private boolean update(String sql, Object... args) throws SQLException {
    return inAutoCommit(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setQueryTimeout(queryTimeoutSeconds);
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate() == 1;
      }
    });
  }

  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs on a connection in autocommit mode: every statement is durable on its own. */
  private <T> T inAutoCommit(SqlWork<T> work) throws SQLException {
    try (Connection c = connection()) {
      boolean autoCommit = c.getAutoCommit();
      if (!autoCommit) {
        c.setAutoCommit(true);
      }
      try {
        return work.run(c);
      } finally {
        if (!autoCommit) {
          c.setAutoCommit(false);
        }
      }
    }
  }

  private Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  private static boolean isIntegrityViolation(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      String state = x.getSQLState();
      if (state != null && state.startsWith("23")) {
        return true;
      }
    }
    return false;
  }
}
