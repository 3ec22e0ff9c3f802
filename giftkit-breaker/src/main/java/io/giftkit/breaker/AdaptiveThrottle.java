package io.giftkit.breaker;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Google SRE client-side ("adaptive") throttling: reject locally with probability
 * {@code max(0, (requests - K * accepts) / (requests + 1))} over the sliding window, where
 * {@code requests} counts every call the application attempted (rejected ones included) and
 * {@code accepts} the calls the dependency answered. The probability is recomputed at most once per
 * tenth of a bucket, not on every call. Thread-safe, lock-free, allocation-free.
 */
final class AdaptiveThrottle {

  private static final int REQUESTS = 0;
  private static final int ACCEPTS = 1;

  private final SlidingWindow window;
  private final long refreshNanos;
  private volatile double k;
  private volatile double probability;
  private volatile long computedAt;

  AdaptiveThrottle(BreakerConfig config, long nowNanos) {
    this.window = new SlidingWindow(config.window().toNanos(), config.windowBuckets(), 2);
    this.refreshNanos = Math.max(1, config.window().toNanos() / config.windowBuckets() / 10);
    this.k = config.throttleK();
    this.computedAt = nowNanos - refreshNanos;
  }

  void setK(double k) {
    this.k = k;
  }

  /** Counts a request and decides whether to reject it locally. */
  boolean reject(long now) {
    double p = probability(now); // from the requests before this one: a first request is never rejected
    window.increment(now, REQUESTS);
    return p > 0 && ThreadLocalRandom.current().nextDouble() < p;
  }

  /** Counts an answer from the dependency. */
  void accepted(long now) {
    window.increment(now, ACCEPTS);
  }

  double probability(long now) {
    if (now - computedAt >= refreshNanos) {
      long requests = window.sum(now, REQUESTS);
      long accepts = window.sum(now, ACCEPTS);
      probability = Math.max(0, (requests - k * accepts) / (requests + 1));
      computedAt = now;
    }
    return probability;
  }
}
