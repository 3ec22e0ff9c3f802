package io.giftkit.shard;

import java.time.Duration;

/** Hears statements slower than the threshold. Called on the executing thread; a throwing listener is logged and ignored. */
@FunctionalInterface
public interface SlowSqlListener {
  /**
   * @param shard the shard
   * @param table the physical table
   * @param elapsed how long the statement took
   * @param fingerprint the statement's template ({@code {table}} unfilled, whitespace collapsed); never bound values
   */
  void onSlowSql(int shard, String table, Duration elapsed, String fingerprint);
}
