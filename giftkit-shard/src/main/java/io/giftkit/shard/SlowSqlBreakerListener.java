package io.giftkit.shard;

/**
 * Hears the state changes of the slow-SQL breakers ({@link ShardedJdbc#slowSqlBreaker}). Called on
 * the thread whose call caused the change, once per change (only the thread that made it calls);
 * a listener that throws is logged and ignored, and never breaks that call. Keep it short: it runs
 * on a request thread.
 */
@FunctionalInterface
public interface SlowSqlBreakerListener {
  /**
   * @param template the statement template ({@code {table}} unfilled, whitespace collapsed); never bound values
   * @param shard the shard whose breaker of the template changed
   * @param from the state before
   * @param to the state after
   * @param slowCallRate in percent: leaving CLOSED, the window's slow-call rate that tripped it;
   *     OPEN to HALF_OPEN, the rate that opened it; leaving HALF_OPEN, the share of the probes
   *     judged so far that were slow (a probe still running after {@code slowThreshold} counts as slow)
   */
  void onStateChange(String template, int shard, SlowSqlBreakerState from, SlowSqlBreakerState to,
      double slowCallRate);
}
