package io.giftkit.shard;

import io.giftkit.shard.ShardedJdbc.ShardWriteException;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Commit and clean-up steps shared by {@link ShardedJdbc}'s transactions and batch groups. */
final class Transactions {

  private static final Logger LOG = LoggerFactory.getLogger(ShardedJdbc.class);

  private Transactions() {}

  /**
   * Commits; a refusal by a read-only node (the server rolled back) is thrown as is, to be retried;
   * any other failure leaves the outcome unknown and is thrown as such, never retried.
   */
  static void commit(Connection c, Route route, String what) throws SQLException {
    try {
      c.commit();
    } catch (SQLException e) {
      if (SwitchoverRetry.refused(e)) {
        rollbackQuietly(c, e);
        throw e;
      }
      throw new ShardWriteException("COMMIT of " + what + " on shard " + route.shard() + " table " + route.table()
          + " failed: " + e.getMessage() + ". Whether it was applied is unknown (the failure came during COMMIT):"
          + " check before retrying", e, false, true);
    }
  }

  static void rollbackQuietly(Connection c, Throwable failure) {
    try {
      c.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e); // the connection is likely gone; the pool evicts it
    }
  }

  static void restoreAutoCommit(Connection c, boolean autoCommit) {
    try {
      c.setAutoCommit(autoCommit);
    } catch (SQLException e) {
      LOG.debug("GiftKit: could not restore auto-commit on a failed connection (the pool evicts it)", e);
    }
  }
}
