package io.giftkit.mq;

import java.sql.Connection;
import java.sql.SQLException;

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
   */
  boolean claim(Connection connection, String group, String key) throws SQLException;
}
