package io.giftkit.mq;

import io.giftkit.core.Checks;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * An {@link IdempotencyStore} in a database table with a primary key on {@code (consumer_group,
 * idem_key)}; a claim is one {@code INSERT IGNORE} (MariaDB, MySQL 8). {@link #claimAll} claims a
 * whole batch with one multi-row {@code INSERT IGNORE}. On MariaDB 10.5 and later the statement ends in
 * {@code RETURNING idem_key}, which returns the rows it inserted (the new keys) in the same round trip;
 * elsewhere (MySQL, H2) the rows are tagged with a fresh claim token and, only when some keys were
 * there already, one {@code SELECT} by primary key learns which rows carry the token. The two ways
 * claim the same keys; the first writes a narrower row (no token) and never needs the second
 * statement.
 *
 * <p><b>Guarantee.</b> Used through {@link GiftkitConsumer}'s transactional handlers, the claims and
 * the handler's writes commit together: each key's effects are applied exactly once, whatever the
 * redeliveries and crashes. Keys are kept until you delete them (delete old rows by
 * {@code claimed_at} once redelivery of them is impossible, e.g. after the topic's retention).
 *
 * <p><b>Keys are compared byte for byte.</b> The group and key columns are {@code VARBINARY} holding
 * the UTF-8 bytes, so keys that differ only in case, accents or trailing spaces ({@code Order-1},
 * {@code order-1}, {@code ördér-1}) are distinct keys, never silently skipped as duplicates (a
 * {@code VARCHAR} column takes the database's default collation, case- and accent-insensitive on
 * MySQL and MariaDB). A table created by an earlier version (with {@code VARCHAR} columns) is left
 * as it is by {@link #createTable}; migrate it with {@code ALTER TABLE <table> MODIFY consumer_group
 * VARBINARY(760) NOT NULL, MODIFY idem_key VARBINARY(760) NOT NULL}.
 *
 * <p>Thread-safe (stateless).
 */
public final class JdbcIdempotencyStore implements IdempotencyStore {

  /** The longest key (the column's width): longer keys are rejected, never truncated into collisions. */
  public static final int MAX_KEY_LENGTH = 190;

  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
  private static final int ROWS_PER_STATEMENT = 500;
  /** A key's UTF-8 bytes: at most 3 per UTF-16 unit (4 per surrogate pair). */
  private static final int MAX_BYTES = 4 * MAX_KEY_LENGTH;

  private final String table;

  /**
   * @param table the table's name; {@code [A-Za-z0-9_]}, 1 to 64 characters
   */
  public JdbcIdempotencyStore(String table) {
    this.table = Checks.requireMatches("table", table, TABLE, "1 to 64 characters of A-Z, a-z, 0-9 or '_'");
  }

  /** @return the table's name */
  public String table() {
    return table;
  }

  /**
   * Creates the table if it does not exist.
   *
   * @param connection a connection to the database
   * @throws SQLException on database failure
   */
  public void createTable(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " (consumer_group VARBINARY(" + MAX_BYTES + ") NOT NULL,"
          + " idem_key VARBINARY(" + MAX_BYTES + ") NOT NULL,"
          + " claimed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), claim_token CHAR(36) NULL,"
          + " PRIMARY KEY (consumer_group, idem_key))");
    }
  }

  @Override
  public boolean claim(Connection connection, String group, String key) throws SQLException {
    checkKey(key);
    try (PreparedStatement ps = connection.prepareStatement(
        "INSERT IGNORE INTO " + table + " (consumer_group, idem_key) VALUES (?, ?)")) {
      ps.setBytes(1, utf8(group));
      ps.setBytes(2, utf8(key));
      return ps.executeUpdate() == 1;
    }
  }

  @Override
  public Set<String> claimAll(Connection connection, String group, Collection<String> keys) throws SQLException {
    return claimAll(connection, group, keys, insertReturns(connection));
  }

  /**
   * {@link #claimAll(Connection, String, Collection)} with the way chosen by the caller (tests run both
   * on MariaDB).
   *
   * @param returning {@code INSERT … RETURNING} (MariaDB 10.5+) rather than a claim token
   */
  Set<String> claimAll(Connection connection, String group, Collection<String> keys, boolean returning)
      throws SQLException {
    List<String> all = new ArrayList<>(keys);
    all.forEach(JdbcIdempotencyStore::checkKey);
    Set<String> fresh = new HashSet<>();
    for (int from = 0; from < all.size(); from += ROWS_PER_STATEMENT) {
      List<String> chunk = all.subList(from, Math.min(all.size(), from + ROWS_PER_STATEMENT));
      if (returning) {
        claimReturning(connection, group, chunk, fresh);
        continue;
      }
      String token = UUID.randomUUID().toString();
      int inserted;
      try (PreparedStatement ps = connection.prepareStatement("INSERT IGNORE INTO " + table
          + " (consumer_group, idem_key, claim_token) VALUES " + rows("(?, ?, ?)", chunk.size()))) {
        int i = 1;
        for (String key : chunk) {
          ps.setBytes(i++, utf8(group));
          ps.setBytes(i++, utf8(key));
          ps.setString(i++, token);
        }
        inserted = ps.executeUpdate();
      }
      if (inserted == chunk.size()) {
        fresh.addAll(chunk);
      } else if (inserted > 0) {
        try (PreparedStatement ps = connection.prepareStatement("SELECT idem_key FROM " + table
            + " WHERE consumer_group = ? AND claim_token = ? AND idem_key IN (" + rows("?", chunk.size()) + ")")) {
          int i = 1;
          ps.setBytes(i++, utf8(group));
          ps.setString(i++, token);
          for (String key : chunk) {
            ps.setBytes(i++, utf8(key));
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              fresh.add(new String(rs.getBytes(1), StandardCharsets.UTF_8));
            }
          }
        }
      }
    }
    return fresh;
  }

  /** One statement: the rows it inserted come back, and they are the new keys. */
  private void claimReturning(Connection connection, String group, List<String> chunk, Set<String> fresh)
      throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement("INSERT IGNORE INTO " + table
        + " (consumer_group, idem_key) VALUES " + rows("(?, ?)", chunk.size()) + " RETURNING idem_key")) {
      byte[] groupBytes = utf8(group);
      int i = 1;
      for (String key : chunk) {
        ps.setBytes(i++, groupBytes);
        ps.setBytes(i++, utf8(key));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          fresh.add(new String(rs.getBytes(1), StandardCharsets.UTF_8));
        }
      }
    }
  }

  /**
   * Whether the server is MariaDB 10.5 or later, whose {@code INSERT … RETURNING} returns the inserted
   * rows (the ignored ones are not returned). The driver answers from the connection's handshake: no
   * round trip.
   */
  static boolean insertReturns(Connection connection) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    if (!"MariaDB".equalsIgnoreCase(meta.getDatabaseProductName())) {
      return false;
    }
    int major = meta.getDatabaseMajorVersion();
    return major > 10 || (major == 10 && meta.getDatabaseMinorVersion() >= 5);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String rows(String row, int n) {
    StringBuilder sb = new StringBuilder(n * (row.length() + 2));
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append(row);
    }
    return sb.toString();
  }

  private static void checkKey(String key) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException("idempotency key must be 1 to " + MAX_KEY_LENGTH + " characters, but was "
          + (key == null ? "null" : key.length() + " characters: '"
          + (key.length() > 60 ? key.substring(0, 60) + "…" : key) + "'"));
    }
  }

  @Override
  public String toString() {
    return "JdbcIdempotencyStore{table=" + table + "}";
  }
}
