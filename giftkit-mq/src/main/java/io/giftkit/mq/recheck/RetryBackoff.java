package io.giftkit.mq.recheck;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The delay before a check's next attempt: either fixed (what {@code retryDelay(d)} sets, as before
 * back-off existed) or exponential — {@code initial × 2^(attempt − 1)}, capped at {@code max}, then a
 * uniform draw in [½, 1] of that (jitter, so checks that failed together do not come due together).
 * Immutable and thread-safe; never blocks.
 */
final class RetryBackoff {

  private final long initialMillis;
  private final long maxMillis;
  private final boolean exponential;
  private final DoubleSupplier random;

  private RetryBackoff(long initialMillis, long maxMillis, boolean exponential, DoubleSupplier random) {
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.exponential = exponential;
    this.random = random;
  }

  /** @return the same delay after every attempt, no jitter */
  static RetryBackoff fixed(Duration delay) {
    return new RetryBackoff(delay.toMillis(), delay.toMillis(), false, () -> 1.0);
  }

  /** @return doubling from {@code initial} up to {@code max}, with jitter in [½, 1] */
  static RetryBackoff exponential(Duration initial, Duration max) {
    return exponential(initial, max, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** @param random draws in [0, 1) (tests pin it) */
  static RetryBackoff exponential(Duration initial, Duration max, DoubleSupplier random) {
    return new RetryBackoff(initial.toMillis(), max.toMillis(), true, random);
  }

  /**
   * @param attempt the attempt that just ended unsettled, from 1
   * @return milliseconds until the next attempt is due
   */
  long delayMillis(int attempt) {
    if (!exponential) {
      return initialMillis;
    }
    long delay = initialMillis;
    for (int i = 1; i < attempt && delay < maxMillis; i++) {
      delay = delay > maxMillis / 2 ? maxMillis : delay * 2;
    }
    delay = Math.min(delay, maxMillis);
    double factor = 0.5 + 0.5 * random.getAsDouble(); // [0.5, 1)
    return Math.max(1, Math.round(delay * factor));
  }

  @Override
  public String toString() {
    return exponential ? "exponential(" + initialMillis + "ms..." + maxMillis + "ms, jitter ½-1)"
        : "fixed(" + initialMillis + "ms)";
  }
}
