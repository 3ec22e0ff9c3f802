package io.giftkit.breaker;

import io.giftkit.core.GiftkitException;

/**
 * Thrown by {@link CircuitBreaker#execute(java.util.function.Supplier)} (the form without a
 * fallback) when the breaker does not let the call through. The message names the breaker and its
 * state. Instances are preallocated per breaker and state: throwing one allocates nothing and
 * carries no stack trace. Prefer the forms that take a fallback, which throw nothing.
 */
public final class CallNotPermittedException extends GiftkitException {

  private static final long serialVersionUID = 1L;

  private final String breakerName;
  private final CircuitBreaker.State state;

  private CallNotPermittedException(String breakerName, CircuitBreaker.State state) {
    super("breaker '" + breakerName + "' is " + state + (state == CircuitBreaker.State.HALF_OPEN
        ? " with all probe calls taken" : "") + "; the call was not made", null, false);
    this.breakerName = breakerName;
    this.state = state;
  }

  static CallNotPermittedException of(String breakerName, CircuitBreaker.State state) {
    return new CallNotPermittedException(breakerName, state);
  }

  /** @return the name of the breaker that refused the call */
  public String breakerName() {
    return breakerName;
  }

  /** @return the breaker's state when it refused the call */
  public CircuitBreaker.State state() {
    return state;
  }
}
