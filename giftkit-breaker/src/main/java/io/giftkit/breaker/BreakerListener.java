package io.giftkit.breaker;

/**
 * Hears a breaker's state transitions and per-call outcomes. Both methods have empty defaults;
 * implement what you need. Listeners run on the thread that caused the event (a caller, a worker
 * or the timer), so they must be quick and thread-safe. A listener that throws is logged and
 * ignored (see {@link io.giftkit.core.Listeners}); it never breaks a call.
 *
 * <p>When no listener is registered, firing costs one field read and allocates nothing.
 */
public interface BreakerListener {

  /**
   * The breaker moved from one state to another.
   *
   * @param breakerName the breaker's name
   * @param from the previous state
   * @param to the new state
   */
  default void onStateTransition(String breakerName, CircuitBreaker.State from, CircuitBreaker.State to) {}

  /**
   * A call finished, was cut off by its budget, or was not made.
   *
   * @param breakerName the breaker's name
   * @param outcome what happened
   * @param durationNanos how long the call ran (the budget, for a timeout; 0 for a call not made)
   */
  default void onCall(String breakerName, CallOutcome outcome, long durationNanos) {}
}
