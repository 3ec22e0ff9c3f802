package io.giftkit.breaker;

/**
 * What a {@link LatencyBreaker} call returns: the value, where it came from ({@link Source}) and
 * what happened to the call ({@link CallOutcome}), so that a caller (the gift panel) can show that
 * part of its answer is stale or missing. Immutable.
 *
 * @param <V> the value type
 */
public final class BreakerResult<V> {

  /** Where a result's value came from. */
  public enum Source {
    /** The call answered within its budget. */
    FRESH,
    /** The last good value for the key (the call failed, timed out or was not made). */
    CACHED,
    /** The configured default (no last good value for the key). */
    DEFAULT
  }

  private final V value;
  private final Source source;
  private final CallOutcome outcome;
  /** For cached results: the ticker reading when the value was stored. */
  final long storedAtNanos;

  BreakerResult(V value, Source source, CallOutcome outcome) {
    this(value, source, outcome, 0);
  }

  BreakerResult(V value, Source source, CallOutcome outcome, long storedAtNanos) {
    this.value = value;
    this.source = source;
    this.outcome = outcome;
    this.storedAtNanos = storedAtNanos;
  }

  /** @return the value: fresh, cached or the default (null only if the call or the default gave null) */
  public V value() {
    return value;
  }

  /** @return where the value came from */
  public Source source() {
    return source;
  }

  /** @return what happened to the call: SUCCESS for a fresh value, else why the fallback was served */
  public CallOutcome outcome() {
    return outcome;
  }

  /** @return whether the value is fresh */
  public boolean isFresh() {
    return source == Source.FRESH;
  }

  @Override
  public String toString() {
    return "BreakerResult{" + source + ", " + outcome + ", value=" + value + "}";
  }
}
