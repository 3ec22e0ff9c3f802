package io.giftkit.mq;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Remembers which business keys a consumer group has applied, so a record delivered twice is
 * applied once. A claim that returns {@code false} means the key was applied before: skip it.
 */
public interface IdempotencyStore {

  /**
   * Claims a key inside the caller's transaction: the claim commits or rolls back with the
   * handler's own writes, so a crash between them can neither lose nor double-apply the record.
   *
   * @param connection the handler's connection (auto-commit off)
   * @param group the consumer group
   * @param key the business key (e.g. the gift order id)
   * @return whether the key was new
   * @throws SQLException on database failure
   * @throws IllegalArgumentException if the key is not a valid key for the store (e.g. too long)
   */
  boolean claim(Connection connection, String group, String key) throws SQLException;

  /**
   * Claims several distinct keys inside the caller's transaction. The default claims them one by one;
   * stores override it with fewer round trips.
   *
   * @param connection the handler's connection (auto-commit off)
   * @param group the consumer group
   * @param keys distinct business keys
   * @return the keys that were new
   * @throws SQLException on database failure
   */
  default Set<String> claimAll(Connection connection, String group, Collection<String> keys) throws SQLException {
    Set<String> fresh = new LinkedHashSet<>();
    for (String key : keys) {
      if (claim(connection, group, key)) {
        fresh.add(key);
      }
    }
    return fresh;
  }
}
