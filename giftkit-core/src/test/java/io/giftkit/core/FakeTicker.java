package io.giftkit.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when a test tells it to, so time-based behaviour (windows,
 * budgets, cooldowns) is tested without sleeping. Published in giftkit-core's test-jar for the other
 * modules' tests:
 *
 * <pre>{@code
 * <dependency>
 *   <groupId>io.giftkit</groupId>
 *   <artifactId>giftkit-core</artifactId>
 *   <type>test-jar</type>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 *
 * <p>Thread-safe: reads and advances are atomic.
 */
public final class FakeTicker implements Ticker {

  private final AtomicLong nanos;

  /** Starts at an arbitrary non-zero reading, as the system ticker does. */
  public FakeTicker() {
    this(1_000_000_000L);
  }

  /**
   * Starts at the given reading.
   *
   * @param startNanos the first reading
   */
  public FakeTicker(long startNanos) {
    this.nanos = new AtomicLong(startNanos);
  }

  @Override
  public long read() {
    return nanos.get();
  }

  /**
   * Moves time forward.
   *
   * @param duration how far; must not be negative (a ticker is monotonic)
   * @return this ticker
   */
  public FakeTicker advance(Duration duration) {
    Checks.requireNonNegative("duration", duration);
    nanos.addAndGet(duration.toNanos());
    return this;
  }

  /**
   * Moves time forward.
   *
   * @param nanosToAdd how far, in nanoseconds; must not be negative
   * @return this ticker
   */
  public FakeTicker advanceNanos(long nanosToAdd) {
    Checks.requireNonNegative("nanosToAdd", nanosToAdd);
    nanos.addAndGet(nanosToAdd);
    return this;
  }

  @Override
  public String toString() {
    return "FakeTicker{" + nanos.get() + "ns}";
  }
}
