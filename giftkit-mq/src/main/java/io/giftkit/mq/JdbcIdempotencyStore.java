package io.giftkit.mq;

import io.giftkit.core.Checks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/**
 * An {@link IdempotencyStore} in a database table with a unique key on {@code (consumer_group,
 * idem_key)}; a claim is one {@code INSERT IGNORE} (MariaDB, MySQL 8).
 *
 * <p><b>Guarantee.</b> Used through {@link GiftkitConsumer}'s transactional handler, the claim and the
 * handler's writes commit together: each key's effects are applied exactly once, whatever the
 * redeliveries and crashes. Keys are kept until you delete them (delete old rows by
 * {@code claimed_at} once redelivery of them is impossible, e.g. after the topic's retention).
 */
public final class JdbcIdempotencyStore implements IdempotencyStore {

  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");

  private final String table;

  /**
   * @param table the table's name; {@code [A-Za-z0-9_]}, 1 to 64 characters
   */
  public JdbcIdempotencyStore(String table) {
    this.table = Checks.requireMatches("table", table, TABLE, "1 to 64 characters of A-Z, a-z, 0-9 or '_'");
  }

  /**
   * Creates the table if it does not exist.
   *
   * @param connection a connection to the database
   * @throws SQLException on database failure
   */
  public void createTable(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " (consumer_group VARCHAR(190) NOT NULL,"
          + " idem_key VARCHAR(190) NOT NULL, claimed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
          + " PRIMARY KEY (consumer_group, idem_key))");
    }
  }

  @Override
  public boolean claim(Connection connection, String group, String key) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(
        "INSERT IGNORE INTO " + table + " (consumer_group, idem_key) VALUES (?, ?)")) {
      ps.setString(1, group);
      ps.setString(2, key);
      return ps.executeUpdate() == 1;
    }
  }
}
