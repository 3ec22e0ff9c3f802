package io.giftkit.breaker;

/**
 * What happened to one call: it succeeded, or why it did not reach (or did not get an answer from)
 * the protected dependency. {@link BreakerResult#outcome()} says which one produced a result, and
 * {@link BreakerListener#onCall} reports each.
 */
public enum CallOutcome {
  /** The call answered in time. */
  SUCCESS,
  /** The call threw. Counts as a failure. */
  FAILURE,
  /** The call did not answer within the latency budget. Counts as a failure. */
  TIMEOUT,
  /** The breaker was open (or half-open with all probes out): the call was not made. */
  OPEN,
  /** The bounded executor was full: the call was not made. Counts as a failure. */
  POOL_FULL,
  /** A rate limiter refused the call: it was not made. */
  RATE_LIMITED,
  /** Adaptive throttling rejected the call locally: it was not made. */
  THROTTLED;

  /** Whether this outcome counts against the dependency in the failure rate. */
  boolean isFailure() {
    return this == FAILURE || this == TIMEOUT || this == POOL_FULL;
  }
}
