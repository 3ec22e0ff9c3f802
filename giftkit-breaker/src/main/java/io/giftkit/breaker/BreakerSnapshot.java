package io.giftkit.breaker;

/**
 * A point-in-time view of a breaker, for metrics and health: its state, the counts and rates in the
 * current sliding window, totals per {@link CallOutcome} since creation, and (for a {@link
 * LatencyBreaker}) the fallbacks served by kind and the late answers that refreshed the cache.
 * Immutable.
 */
public final class BreakerSnapshot {

  private final String name;
  private final CircuitBreaker.State state;
  private final long callsInWindow;
  private final long failuresInWindow;
  private final long slowCallsInWindow;
  private final long[] outcomeTotals;
  private final long fallbacksCached;
  private final long fallbacksDefault;
  private final long lateAnswers;

  BreakerSnapshot(String name, CircuitBreaker.State state, long callsInWindow, long failuresInWindow,
      long slowCallsInWindow, long[] outcomeTotals, long fallbacksCached, long fallbacksDefault, long lateAnswers) {
    this.name = name;
    this.state = state;
    this.callsInWindow = callsInWindow;
    this.failuresInWindow = failuresInWindow;
    this.slowCallsInWindow = slowCallsInWindow;
    this.outcomeTotals = outcomeTotals;
    this.fallbacksCached = fallbacksCached;
    this.fallbacksDefault = fallbacksDefault;
    this.lateAnswers = lateAnswers;
  }

  /** @return the breaker's name */
  public String name() {
    return name;
  }

  /** @return the state when the snapshot was taken */
  public CircuitBreaker.State state() {
    return state;
  }

  /** @return calls recorded in the current window (closed state only; a new window starts on closing) */
  public long callsInWindow() {
    return callsInWindow;
  }

  /** @return failures (failures, timeouts, full pool) in the current window */
  public long failuresInWindow() {
    return failuresInWindow;
  }

  /** @return slow successful calls in the current window */
  public long slowCallsInWindow() {
    return slowCallsInWindow;
  }

  /** @return failures in percent of the calls in the window, or NaN when the window is empty */
  public double failureRate() {
    return callsInWindow == 0 ? Double.NaN : failuresInWindow * 100.0 / callsInWindow;
  }

  /** @return slow calls in percent of the calls in the window, or NaN when the window is empty */
  public double slowCallRate() {
    return callsInWindow == 0 ? Double.NaN : slowCallsInWindow * 100.0 / callsInWindow;
  }

  /**
   * Returns how many calls ended with {@code outcome} since the breaker was created.
   *
   * @param outcome the outcome
   * @return the count
   */
  public long total(CallOutcome outcome) {
    return outcomeTotals[outcome.ordinal()];
  }

  /** @return fallbacks served from the last-good cache since creation */
  public long fallbacksCached() {
    return fallbacksCached;
  }

  /** @return fallbacks served from the default (no last-good value) since creation */
  public long fallbacksDefault() {
    return fallbacksDefault;
  }

  /** @return answers that arrived after their caller had the fallback, and refreshed the cache */
  public long lateAnswers() {
    return lateAnswers;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("BreakerSnapshot{name=").append(name).append(", state=").append(state)
        .append(", callsInWindow=").append(callsInWindow).append(", failuresInWindow=").append(failuresInWindow)
        .append(", slowCallsInWindow=").append(slowCallsInWindow);
    for (CallOutcome o : CallOutcome.values()) {
      sb.append(", ").append(o).append('=').append(outcomeTotals[o.ordinal()]);
    }
    return sb.append(", fallbacksCached=").append(fallbacksCached).append(", fallbacksDefault=")
        .append(fallbacksDefault).append(", lateAnswers=").append(lateAnswers).append('}').toString();
  }
}
