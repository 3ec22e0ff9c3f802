package io.giftkit.coord;

import io.giftkit.core.Checks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.regex.Pattern;

/**
 * Guards a JDBC write with an {@link EtcdLock}'s fencing token, so that a holder that lost the lock
 * without knowing it (paused past its lease, cut off from etcd) cannot overwrite the work of the
 * holder after it. The row keeps the highest token that wrote it, in a column of its own
 * ({@code fence BIGINT NOT NULL DEFAULT 0}); the update runs only if the stored token is not higher
 * than this holder's, and stores this holder's:
 *
 * <pre>{@code
 * int rows = FencedWrite.update(connection, "settlement", "fence", "total = ?", "month = ?", lock, total, month);
 * // UPDATE settlement SET total = ?, fence = <token> WHERE (month = ?) AND fence <= <token>
 * if (rows == 0) { ... a later holder wrote this row (or no row matched): this holder must stop ... }
 * }</pre>
 *
 * <p>"Not higher" rather than "lower": the same holder may write the same row more than once, and
 * no other holder has its token. The check and the write are one statement, so the database decides
 * atomically; this is what makes the lock safe where {@link EtcdLock#isHeld()} cannot. The token, a
 * number from etcd, is written into the SQL text; table and column must be plain identifiers; the
 * two clauses are the caller's SQL with {@code ?} placeholders, bound from {@code parameters} in order.
 *
 * <p>Stateless and thread-safe; blocks for the statement. Works on MariaDB, MySQL and any SQL database.
 */
public final class FencedWrite {

  private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private FencedWrite() {}

  /**
   * Builds the fenced update.
   *
   * @param table the table, {@code name} or {@code schema.name}
   * @param fenceColumn the column that keeps the highest token that wrote the row
   * @param setClause the assignments, e.g. {@code "total = ?, status = ?"}
   * @param whereClause the row condition, e.g. {@code "month = ?"}
   * @param fencingToken the holder's token, positive
   * @return {@code UPDATE table SET setClause, fence = token WHERE (whereClause) AND fence <= token}
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   */
  public static String sql(String table, String fenceColumn, String setClause, String whereClause, long fencingToken) {
    Checks.requireMatches("table", table, TABLE, "a plain identifier, optionally schema-qualified");
    Checks.requireMatches("fenceColumn", fenceColumn, COLUMN, "a plain identifier");
    Checks.requireNonBlank("setClause", setClause);
    Checks.requireNonBlank("whereClause", whereClause);
    Checks.requirePositive("fencingToken", fencingToken);
    return "UPDATE " + table + " SET " + setClause + ", " + fenceColumn + " = " + fencingToken + " WHERE ("
        + whereClause + ") AND " + fenceColumn + " <= " + fencingToken;
  }

  /**
   * Runs the fenced update for {@code lock}'s token on {@code connection} (in its transaction, if any).
   *
   * @param connection the connection; the caller keeps owning it
   * @param table the table, {@code name} or {@code schema.name}
   * @param fenceColumn the column that keeps the highest token that wrote the row
   * @param setClause the assignments, e.g. {@code "total = ?"}
   * @param whereClause the row condition, e.g. {@code "month = ?"}
   * @param lock the lock whose {@link EtcdLock#fencingToken()} guards the write (held or not: the
   *     database decides)
   * @param parameters bound to the placeholders of {@code setClause}, then {@code whereClause}
   * @return the rows updated: 0 if a later holder wrote the row, or none matched
   * @throws SQLException as the driver throws it
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   */
  public static int update(Connection connection, String table, String fenceColumn, String setClause,
      String whereClause, EtcdLock lock, Object... parameters) throws SQLException {
    Checks.requireNonNull("lock", lock);
    return update(connection, table, fenceColumn, setClause, whereClause, lock.fencingToken(), parameters);
  }

  /**
   * Runs the fenced update for a token of another source, e.g. a {@link Leadership#token()} (tokens
   * are comparable only within one lock name or one election).
   *
   * @param connection the connection; the caller keeps owning it
   * @param table the table, {@code name} or {@code schema.name}
   * @param fenceColumn the column that keeps the highest token that wrote the row
   * @param setClause the assignments, e.g. {@code "total = ?"}
   * @param whereClause the row condition, e.g. {@code "month = ?"}
   * @param fencingToken the writer's token, positive
   * @param parameters bound to the placeholders of {@code setClause}, then {@code whereClause}
   * @return the rows updated: 0 if a writer with a higher token wrote the row, or none matched
   * @throws SQLException as the driver throws it
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   */
  public static int update(Connection connection, String table, String fenceColumn, String setClause,
      String whereClause, long fencingToken, Object... parameters) throws SQLException {
    Checks.requireNonNull("connection", connection);
    String sql = sql(table, fenceColumn, setClause, whereClause, fencingToken);
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setObject(i + 1, parameters[i]);
      }
      return statement.executeUpdate();
    }
  }
}
