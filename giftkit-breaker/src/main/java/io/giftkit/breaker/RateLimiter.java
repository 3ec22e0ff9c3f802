package io.giftkit.breaker;

import io.giftkit.core.Checks;
import io.giftkit.core.Ticker;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A token-bucket rate limiter: {@code permitsPerSecond} on average, with bursts of up to
 * {@code burst} calls. Implemented as the generic cell rate algorithm: one {@link AtomicLong} (the
 * theoretical arrival time) updated by compare-and-set, so {@link #tryAcquire()} never blocks,
 * never locks and allocates nothing. A refused call is simply told so; it never waits.
 *
 * <pre>{@code
 * RateLimiter limiter = RateLimiter.of(1_000, 100);   // 1,000/s, bursts of 100
 * if (limiter.tryAcquire()) { ... }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class RateLimiter {

  private final Ticker ticker;
  private final long intervalNanos;
  private final long toleranceNanos;
  private final AtomicLong theoreticalArrival;

  private RateLimiter(double permitsPerSecond, int burst, Ticker ticker) {
    this.ticker = ticker;
    this.intervalNanos = intervalNanos(permitsPerSecond);
    this.toleranceNanos = (burst - 1) * intervalNanos;
    this.theoreticalArrival = new AtomicLong(ticker.read());
  }

  /**
   * Creates a limiter reading the system ticker.
   *
   * @param permitsPerSecond the average rate; in (0, 1e9]
   * @param burst how many calls may pass at once after a quiet period; at least 1
   * @return the limiter, with a full bucket
   */
  public static RateLimiter of(double permitsPerSecond, int burst) {
    return of(permitsPerSecond, burst, Ticker.system());
  }

  /**
   * Creates a limiter reading the given ticker.
   *
   * @param permitsPerSecond the average rate; in (0, 1e9]
   * @param burst how many calls may pass at once after a quiet period; at least 1
   * @param ticker the time source
   * @return the limiter, with a full bucket
   */
  public static RateLimiter of(double permitsPerSecond, int burst, Ticker ticker) {
    checkRate(permitsPerSecond, burst);
    return new RateLimiter(permitsPerSecond, burst, Checks.requireNonNull("ticker", ticker));
  }

  static void checkRate(double permitsPerSecond, int burst) {
    Checks.requireInRange("permitsPerSecond", permitsPerSecond, 0, false, 1e9, true);
    Checks.requireInRange("burst", burst, 1, Integer.MAX_VALUE);
  }

  static long intervalNanos(double permitsPerSecond) {
    return Math.max(1, Math.round(1e9 / permitsPerSecond));
  }

  /**
   * Takes a permit if one is available now.
   *
   * @return whether the call may proceed
   */
  public boolean tryAcquire() {
    return tryAcquire(theoreticalArrival, ticker.read(), intervalNanos, toleranceNanos);
  }

  /** The generic cell rate algorithm on one cell; shared with {@link KeyedRateLimiter}. */
  static boolean tryAcquire(AtomicLong tat, long now, long intervalNanos, long toleranceNanos) {
    for (;;) {
      long current = tat.get();
      long base = Math.max(current, now);
      if (base - now > toleranceNanos) {
        return false;
      }
      if (tat.compareAndSet(current, base + intervalNanos)) {
        return true;
      }
    }
  }
}
