package io.giftkit.core;

/**
 * A source of monotonic time in nanoseconds, for measuring elapsed time (budgets, windows,
 * cooldowns). It is not wall-clock time: only the difference between two readings means anything.
 *
 * <p>Every GiftKit component that measures time takes a {@code Ticker}, so tests drive time with a
 * fake ticker instead of sleeping. Implementations must be thread-safe and cheap: components read
 * the ticker on hot paths.
 */
@FunctionalInterface
public interface Ticker {

  /**
   * Returns the current reading in nanoseconds. Readings never decrease; the origin is arbitrary.
   *
   * @return nanoseconds since an arbitrary, fixed origin
   */
  long read();

  /**
   * Returns the ticker backed by {@link System#nanoTime()}: one call, no allocation.
   *
   * @return the shared system ticker
   */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

/** {@link System#nanoTime()}; an enum so it is a serialisation-safe singleton. */
enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }

  @Override
  public String toString() {
    return "Ticker.system()";
  }
}
