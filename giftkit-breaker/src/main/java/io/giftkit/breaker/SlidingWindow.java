package io.giftkit.breaker;

import java.util.concurrent.atomic.LongAdder;

/**
 * A time-based sliding window of {@code buckets} buckets, each holding {@code counters} striped
 * counters. Recording costs one ticker value (passed in), an array index and one {@link LongAdder}
 * increment: no lock, no allocation. A bucket is reset lazily by the first writer that finds it
 * holding an older epoch; only that reset takes the bucket's monitor, once per bucket period.
 *
 * <p>{@link #sum} adds the buckets still inside the window; callers do it only when a decision is
 * due (on a failure, never on a success), so the closed path never aggregates.
 *
 * <p>Accuracy: a writer delayed by a whole window between reading the epoch and incrementing may
 * land its count in a reused bucket; that is at most a handful of calls out of a window and is the
 * price of a lock-free path.
 */
final class SlidingWindow {

  private final long bucketNanos;
  private final Bucket[] buckets;
  private Bucket lastUsed;

  SlidingWindow(long windowNanos, int bucketCount, int counters) {
    this.bucketNanos = windowNanos / bucketCount;
    this.buckets = new Bucket[bucketCount];
    for (int i = 0; i < bucketCount; i++) {
      buckets[i] = new Bucket(counters);
    }
    lastUsed = buckets[0];
  }

  /** Adds one to {@code counter} in the bucket for {@code nowNanos}. */
  void increment(long nowNanos, int counter) {
    bucketFor(nowNanos).counters[counter].increment();
  }

  /** Adds one to two counters of the same bucket (e.g. calls and failures). */
  void increment(long nowNanos, int counter, int otherCounter) {
    Bucket b = bucketFor(nowNanos);
    b.counters[counter].increment();
    b.counters[otherCounter].increment();
  }

  /** The sum of {@code counter} over the buckets inside the window ending at {@code nowNanos}. */
  long sum(long nowNanos, int counter) {
    long epoch = Math.floorDiv(nowNanos, bucketNanos);
    long oldest = epoch - buckets.length + 1;
    long sum = 0;
    for (Bucket b : buckets) {
      long e = b.epoch;
      if (e >= oldest && e <= epoch) {
        sum += b.counters[counter].sum();
      }
    }
    return sum;
  }

  /** Forgets everything. */
  void reset() {
    for (Bucket b : buckets) {
      synchronized (b) {
        b.epoch = Long.MIN_VALUE;
        for (LongAdder c : b.counters) {
          c.reset();
        }
      }
    }
  }

  private Bucket bucketFor(long nowNanos) {
    Bucket last = lastUsed; // a racy hint: any bucket is safe to test, and the test is exact
    long lastEpoch = last.epoch;
    long offset = nowNanos - lastEpoch * bucketNanos;
    if (offset >= 0 && offset < bucketNanos && lastEpoch != Long.MIN_VALUE) {
      return last;
    }
    long epoch = Math.floorDiv(nowNanos, bucketNanos);
    Bucket b = buckets[(int) Math.floorMod(epoch, (long) buckets.length)];
    if (b.epoch != epoch) {
      synchronized (b) {
        if (b.epoch < epoch) {
          for (LongAdder c : b.counters) {
            c.reset();
          }
          b.epoch = epoch;
        }
      }
    }
    lastUsed = b;
    return b;
  }

  private static final class Bucket {
    volatile long epoch = Long.MIN_VALUE;
    final LongAdder[] counters;

    Bucket(int n) {
      counters = new LongAdder[n];
      for (int i = 0; i < n; i++) {
        counters[i] = new LongAdder();
      }
    }
  }
}
