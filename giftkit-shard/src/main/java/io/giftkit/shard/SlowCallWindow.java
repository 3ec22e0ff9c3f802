package io.giftkit.shard;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A time-based sliding window of calls and slow calls in a fixed number of buckets, for one
 * (template, shard). Recording is two atomic increments in the bucket of the moment; a bucket
 * holding an older period is reset under this object's monitor by the first writer that finds it,
 * so the monitor is taken about once per bucket period, never per call. No allocation.
 *
 * <p>Accuracy: a writer delayed by a whole window between checking a bucket's period and
 * incrementing may count into a reused bucket: a handful of calls at most, the price of a lock-free
 * path. Memory: 24 bytes per bucket plus two array headers.
 */
final class SlowCallWindow {

  private final long bucketNanos;
  private final int buckets;
  private final AtomicLongArray periods; // the period each bucket counts; Long.MIN_VALUE: none
  private final AtomicLongArray counts; // [2 * i]: calls, [2 * i + 1]: slow calls

  SlowCallWindow(long windowNanos, int buckets) {
    this.bucketNanos = Math.max(1, windowNanos / buckets);
    this.buckets = buckets;
    this.periods = new AtomicLongArray(buckets);
    this.counts = new AtomicLongArray(2 * buckets);
    for (int i = 0; i < buckets; i++) {
      periods.set(i, Long.MIN_VALUE);
    }
  }

  void record(long nowNanos, boolean slow) {
    long period = Math.floorDiv(nowNanos, bucketNanos);
    int i = (int) Math.floorMod(period, (long) buckets);
    if (periods.get(i) != period) {
      roll(i, period);
    }
    counts.incrementAndGet(2 * i);
    if (slow) {
      counts.incrementAndGet(2 * i + 1);
    }
  }

  /** @return the calls in the window ending at {@code nowNanos} */
  long calls(long nowNanos) {
    return sum(nowNanos, 0);
  }

  /** @return the slow calls in the window ending at {@code nowNanos} */
  long slowCalls(long nowNanos) {
    return sum(nowNanos, 1);
  }

  synchronized void reset() {
    for (int i = 0; i < buckets; i++) {
      periods.set(i, Long.MIN_VALUE);
      counts.set(2 * i, 0);
      counts.set(2 * i + 1, 0);
    }
  }

  private long sum(long nowNanos, int which) {
    long period = Math.floorDiv(nowNanos, bucketNanos);
    long oldest = period - buckets + 1;
    long sum = 0;
    for (int i = 0; i < buckets; i++) {
      long p = periods.get(i);
      if (p >= oldest && p <= period) {
        sum += counts.get(2 * i + which);
      }
    }
    return sum;
  }

  private synchronized void roll(int i, long period) {
    if (periods.get(i) < period) {
      counts.set(2 * i, 0);
      counts.set(2 * i + 1, 0);
      periods.set(i, period);
    }
  }
}
