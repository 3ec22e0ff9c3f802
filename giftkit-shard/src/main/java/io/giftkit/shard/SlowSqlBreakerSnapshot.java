package io.giftkit.shard;

import java.time.Duration;

/**
 * The state of the slow-SQL breaker of one (template, shard) at one moment, for metrics and the
 * Actuator endpoint ({@link ShardedJdbc#slowSqlBreakerSnapshots()}).
 *
 * @param template the statement template ({@code {table}} unfilled, whitespace collapsed); never bound values
 * @param shard the shard
 * @param state the state
 * @param slowCallRate the slow-call rate, in percent, that opened it (see {@link SlowSqlBreakerListener})
 * @param remainingCooldown while OPEN, how long until a probe is let through; else zero
 * @param rejections calls this breaker refused since it was created
 */
public record SlowSqlBreakerSnapshot(String template, int shard, SlowSqlBreakerState state, double slowCallRate,
    Duration remainingCooldown, long rejections) {}
