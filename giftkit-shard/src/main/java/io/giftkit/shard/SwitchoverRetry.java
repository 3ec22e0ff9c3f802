package io.giftkit.shard;

import io.giftkit.core.Ticker;
import io.giftkit.shard.ShardedJdbc.ShardWriteException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one write on a shard's primary and, when a read-only node refuses it (a switchover), finds
 * the new writable node and runs it again there: at most {@code attempts} times in all, waiting at
 * most {@code wait} in all for a writable node to appear.
 *
 * <p>Why a refused write may be re-run: MariaDB and MySQL check {@code read_only} before executing
 * a statement (error 1290, nothing done) and again in {@code COMMIT}, where they roll the
 * transaction back before answering 1290. So an attempt that ended in a refusal applied nothing,
 * whichever statement was refused. Any other failure of {@code COMMIT} is not re-run: the attempt
 * itself reports it as {@link ShardWriteException#outcomeUnknown()}.
 */
final class SwitchoverRetry {

  /** MariaDB/MySQL ER_OPTION_PREVENTS_STATEMENT: "running with the --read-only option". */
  static final int ER_READ_ONLY = 1290;
  /** MySQL ER_READ_ONLY_MODE: "Running in read-only mode" (innodb_read_only). */
  static final int ER_READ_ONLY_MODE = 1836;

  private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /** One attempt of a write on a connection to the primary. */
  @FunctionalInterface
  interface Attempt<T> {
    T run(Connection c) throws SQLException;
  }

  private final ShardDataSources nodes;
  private final Ticker ticker;
  private final LongAdder retries = new LongAdder();
  private volatile int attempts = ShardedJdbc.DEFAULT_WRITE_ATTEMPTS;
  private volatile long waitNanos = ShardedJdbc.DEFAULT_SWITCHOVER_WAIT.toNanos();

  SwitchoverRetry(ShardDataSources nodes, Ticker ticker) {
    this.nodes = nodes;
    this.ticker = ticker;
  }

  void attempts(int attempts) {
    this.attempts = attempts;
  }

  void waitFor(Duration wait) {
    this.waitNanos = wait.toNanos();
  }

  long retries() {
    return retries.sum();
  }

  /**
   * @param route the row's shard and table
   * @param what names the write in errors ("write", "transaction", "batch insert")
   * @param transactional whether the attempt commits explicitly: then a failure before its commit
   *     applied nothing ({@code safeToRetry}); a single auto-committed statement whose connection
   *     failed may have been applied ({@code outcomeUnknown})
   * @param attempt the write; throws the refusal (or a runtime exception caused by it) as is
   */
  <T> T run(Route route, String what, boolean transactional, Attempt<T> attempt) {
    long deadline = 0;
    for (int n = 1; ; n++) {
      Exception refusal;
      try (Connection c = nodes.connection(route.shard(), Consistency.STRONG)) {
        return attempt.run(c);
      } catch (SQLException e) {
        if (!refused(e)) {
          throw failure(route, what, transactional, e);
        }
        refusal = e;
      } catch (RuntimeException e) {
        if (!refused(e)) {
          throw e;
        }
        refusal = e;
      }
      if (n == 1) {
        deadline = ticker.read() + waitNanos;
      }
      if (n >= attempts) {
        throw new ShardWriteException(what + " on shard " + route.shard() + " table " + route.table()
            + " was refused by a read-only node " + n + " time(s) (writeAttempts=" + attempts + "): "
            + refusal.getMessage() + ". Nothing was applied; it is safe to retry", refusal, true, false);
      }
      awaitWriter(route, what, deadline, refusal);
      retries.increment();
    }
  }

  /** Looks for the writable node until one is seen, the shard is fenced, or the deadline passes. */
  private void awaitWriter(Route route, String what, long deadline, Exception refusal) {
    long backoff = FIRST_BACKOFF_NANOS;
    while (true) {
      Topology.Look look = nodes.lookUpWriter(route.shard());
      if (look.writableSeen() || look.fenced()) {
        return; // a fenced shard fails the next attempt's connection, naming the nodes
      }
      long left = deadline - ticker.read();
      if (left <= 0) {
        throw new ShardWriteException(what + " on shard " + route.shard() + " table " + route.table()
            + " was refused by a read-only node and no node of the shard became writable within "
            + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms (switchoverWait). Nothing was applied; it is safe"
            + " to retry", refusal, true, false);
      }
      LockSupport.parkNanos(Math.min(backoff, left));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new ShardWriteException(what + " on shard " + route.shard() + " table " + route.table()
            + " was interrupted while waiting for a writable node after a refused write. Nothing was applied; it"
            + " is safe to retry", refusal, true, false);
      }
      backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
    }
  }

  /** @return whether {@code t} or one of its causes is a write refused by a read-only node */
  static boolean refused(Throwable t) {
    for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
      if (t instanceof SQLException se && (se.getErrorCode() == ER_READ_ONLY || se.getErrorCode() == ER_READ_ONLY_MODE)) {
        return true;
      }
    }
    return false;
  }

  /** @return whether the connection to the server failed (SQLState class 08) */
  static boolean connectionLost(SQLException e) {
    String state = e.getSQLState();
    return state != null && state.startsWith("08");
  }

  private static ShardWriteException failure(Route route, String what, boolean transactional, SQLException e) {
    String base = what + " on shard " + route.shard() + " table " + route.table() + " failed: " + e.getMessage();
    if (!connectionLost(e)) {
      return new ShardWriteException(base, e, false, false);
    }
    if (transactional) {
      return new ShardWriteException(base + ". The connection failed before COMMIT: nothing was applied; it is safe"
          + " to retry", e, true, false);
    }
    return new ShardWriteException(base + ". The connection failed during the statement: whether it was applied"
        + " is unknown; check before retrying", e, false, true);
  }
}
