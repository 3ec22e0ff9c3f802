package io.giftkit.shard;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Maps the current row of a result set.
 *
 * @param <T> the row type
 */
@FunctionalInterface
public interface RowMapper<T> {
  /**
   * @param rs positioned on a row
   * @return the mapped row
   * @throws SQLException from reading the row
   */
  T map(ResultSet rs) throws SQLException;
}
