package io.giftkit.shard;

/** The state of the slow-SQL breaker of one (statement template, shard). */
public enum SlowSqlBreakerState {
  /** Calls run; each is counted, slow or not, in the sliding window. */
  CLOSED,
  /** Calls fail at once with {@link SlowSqlRejectedException} until the cooldown has passed. */
  OPEN,
  /** A limited number of probe calls run; one slow probe re-opens, enough fast ones close. */
  HALF_OPEN
}
