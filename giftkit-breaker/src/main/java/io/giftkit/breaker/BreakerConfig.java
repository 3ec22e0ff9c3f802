package io.giftkit.breaker;

import io.giftkit.core.Checks;
import java.time.Duration;

/**
 * The settings of a {@link CircuitBreaker} and of the {@link LatencyBreaker} built on it. Immutable
 * and thread-safe; build one with {@link #builder()}, or start from another with
 * {@link #toBuilder()} (which is how a {@link BreakerRegistry} lets per-name settings inherit the
 * defaults).
 *
 * <pre>{@code
 * BreakerConfig config = BreakerConfig.builder()
 *     .timeout(Duration.ofMillis(50))          // latency budget
 *     .failureRateThreshold(50)                // trip at >= 50% failures (timeouts included)
 *     .slidingWindow(Duration.ofSeconds(10), 10)
 *     .minimumCalls(20)
 *     .openDuration(Duration.ofSeconds(5))
 *     .halfOpenProbes(5)
 *     .build();
 * }</pre>
 *
 * <p>Every setter checks its argument at once and throws an {@link
 * io.giftkit.core.InvalidConfigException} naming the parameter, the rule and the bad value;
 * {@link Builder#build()} checks the rules that span several settings. No bad value is ever
 * replaced by a default.
 *
 * <p>Size: past the house limit of ~400 lines only because of its public nested {@link Builder}, one
 * documented method per knob; about 225 of the lines are code.
 */
public final class BreakerConfig {

  /** Default latency budget: 50 ms. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
  /** Default failure-rate threshold: 50 (percent). */
  public static final double DEFAULT_FAILURE_RATE_THRESHOLD = 50;
  /** Default sliding window: 10 s. */
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
  /** Default number of buckets in the sliding window: 10. */
  public static final int DEFAULT_WINDOW_BUCKETS = 10;
  /** Default minimum number of calls in the window before the rate is judged: 20. */
  public static final int DEFAULT_MINIMUM_CALLS = 20;
  /** Default time the breaker stays open: 5 s. */
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(5);
  /** Default open-duration multiplier on repeated trips: 1 (no back-off). */
  public static final double DEFAULT_OPEN_BACKOFF_MULTIPLIER = 1.0;
  /** Default cap of the open duration under back-off: 5 min. */
  public static final Duration DEFAULT_MAX_OPEN_DURATION = Duration.ofMinutes(5);
  /** Default number of probe calls in half-open: 5. */
  public static final int DEFAULT_HALF_OPEN_PROBES = 5;
  /** Default bound on the number of keys whose last good value is kept: 10,000. */
  public static final long DEFAULT_FALLBACK_CACHE_SIZE = 10_000;
  /** Default time a last good value stays usable: 10 min. */
  public static final Duration DEFAULT_FALLBACK_CACHE_TTL = Duration.ofMinutes(10);
  /** Default K of adaptive throttling (Google SRE client-side throttling): 2. */
  public static final double DEFAULT_THROTTLE_K = 2.0;

  private static final BreakerConfig DEFAULTS = new Builder().build();

  private final Duration timeout;
  private final double failureRateThreshold;
  private final Duration slowCallDurationThreshold;
  private final double slowCallRateThreshold;
  private final Duration window;
  private final int windowBuckets;
  private final int minimumCalls;
  private final Duration openDuration;
  private final double openBackoffMultiplier;
  private final Duration maxOpenDuration;
  private final int halfOpenProbes;
  private final long fallbackCacheSize;
  private final Duration fallbackCacheTtl;
  private final boolean adaptiveThrottling;
  private final double throttleK;

  private BreakerConfig(Builder b) {
    this.timeout = b.timeout;
    this.failureRateThreshold = b.failureRateThreshold;
    this.slowCallDurationThreshold = b.slowCallDurationThreshold;
    this.slowCallRateThreshold = b.slowCallRateThreshold;
    this.window = b.window;
    this.windowBuckets = b.windowBuckets;
    this.minimumCalls = b.minimumCalls;
    this.openDuration = b.openDuration;
    this.openBackoffMultiplier = b.openBackoffMultiplier;
    this.maxOpenDuration = b.maxOpenDuration;
    this.halfOpenProbes = b.halfOpenProbes;
    this.fallbackCacheSize = b.fallbackCacheSize;
    this.fallbackCacheTtl = b.fallbackCacheTtl;
    this.adaptiveThrottling = b.adaptiveThrottling;
    this.throttleK = b.throttleK;
  }

  /**
   * Returns the defaults (the {@code DEFAULT_*} constants; slow-call tripping and adaptive
   * throttling off).
   *
   * @return the default configuration
   */
  public static BreakerConfig ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Returns a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this configuration's values.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** @return the latency budget of a {@link LatencyBreaker} call */
  public Duration timeout() {
    return timeout;
  }

  /** @return the failure rate, in percent, at or above which the breaker opens */
  public double failureRateThreshold() {
    return failureRateThreshold;
  }

  /** @return the duration above which a successful call counts as slow, or {@code null} if slow calls never trip */
  public Duration slowCallDurationThreshold() {
    return slowCallDurationThreshold;
  }

  /** @return the slow-call rate, in percent, at or above which the breaker opens (used only when slow calls are judged) */
  public double slowCallRateThreshold() {
    return slowCallRateThreshold;
  }

  /** @return the length of the time-based sliding window */
  public Duration window() {
    return window;
  }

  /** @return the number of buckets the window is divided into */
  public int windowBuckets() {
    return windowBuckets;
  }

  /** @return the number of calls the window must hold before rates are judged */
  public int minimumCalls() {
    return minimumCalls;
  }

  /** @return how long the breaker stays open after its first trip */
  public Duration openDuration() {
    return openDuration;
  }

  /** @return the factor applied to the open duration on each consecutive trip (1 = no back-off) */
  public double openBackoffMultiplier() {
    return openBackoffMultiplier;
  }

  /** @return the longest open duration back-off may reach */
  public Duration maxOpenDuration() {
    return maxOpenDuration;
  }

  /** @return the number of probe calls let through in half-open */
  public int halfOpenProbes() {
    return halfOpenProbes;
  }

  /** @return the bound on keys whose last good value is kept */
  public long fallbackCacheSize() {
    return fallbackCacheSize;
  }

  /** @return how long a last good value stays usable after it was written */
  public Duration fallbackCacheTtl() {
    return fallbackCacheTtl;
  }

  /** @return whether adaptive (client-side) throttling is on */
  public boolean adaptiveThrottling() {
    return adaptiveThrottling;
  }

  /** @return K of adaptive throttling: requests are rejected locally with probability max(0, (requests - K*accepts) / (requests + 1)) */
  public double throttleK() {
    return throttleK;
  }

  /** The open duration after {@code consecutiveTrips} trips in a row (1 for the first). */
  long openDurationNanos(int consecutiveTrips) {
    double nanos = openDuration.toNanos() * Math.pow(openBackoffMultiplier, Math.max(0, consecutiveTrips - 1));
    return (long) Math.min(nanos, (double) maxOpenDuration.toNanos());
  }

  @Override
  public String toString() {
    return "BreakerConfig{timeout=" + Checks.describe(timeout)
        + ", failureRateThreshold=" + failureRateThreshold
        + ", slowCallDurationThreshold=" + Checks.describe(slowCallDurationThreshold)
        + ", slowCallRateThreshold=" + slowCallRateThreshold
        + ", window=" + Checks.describe(window) + "/" + windowBuckets
        + ", minimumCalls=" + minimumCalls
        + ", openDuration=" + Checks.describe(openDuration)
        + ", openBackoffMultiplier=" + openBackoffMultiplier
        + ", maxOpenDuration=" + Checks.describe(maxOpenDuration)
        + ", halfOpenProbes=" + halfOpenProbes
        + ", fallbackCacheSize=" + fallbackCacheSize
        + ", fallbackCacheTtl=" + Checks.describe(fallbackCacheTtl)
        + ", adaptiveThrottling=" + adaptiveThrottling
        + ", throttleK=" + throttleK + "}";
  }

  /** Builds a {@link BreakerConfig}. Not thread-safe. */
  public static final class Builder {

    private Duration timeout = DEFAULT_TIMEOUT;
    private double failureRateThreshold = DEFAULT_FAILURE_RATE_THRESHOLD;
    private Duration slowCallDurationThreshold;
    private double slowCallRateThreshold = 100;
    private Duration window = DEFAULT_WINDOW;
    private int windowBuckets = DEFAULT_WINDOW_BUCKETS;
    private int minimumCalls = DEFAULT_MINIMUM_CALLS;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private double openBackoffMultiplier = DEFAULT_OPEN_BACKOFF_MULTIPLIER;
    private Duration maxOpenDuration = DEFAULT_MAX_OPEN_DURATION;
    private int halfOpenProbes = DEFAULT_HALF_OPEN_PROBES;
    private long fallbackCacheSize = DEFAULT_FALLBACK_CACHE_SIZE;
    private Duration fallbackCacheTtl = DEFAULT_FALLBACK_CACHE_TTL;
    private boolean adaptiveThrottling;
    private double throttleK = DEFAULT_THROTTLE_K;

    private Builder() {}

    private Builder(BreakerConfig c) {
      timeout = c.timeout;
      failureRateThreshold = c.failureRateThreshold;
      slowCallDurationThreshold = c.slowCallDurationThreshold;
      slowCallRateThreshold = c.slowCallRateThreshold;
      window = c.window;
      windowBuckets = c.windowBuckets;
      minimumCalls = c.minimumCalls;
      openDuration = c.openDuration;
      openBackoffMultiplier = c.openBackoffMultiplier;
      maxOpenDuration = c.maxOpenDuration;
      halfOpenProbes = c.halfOpenProbes;
      fallbackCacheSize = c.fallbackCacheSize;
      fallbackCacheTtl = c.fallbackCacheTtl;
      adaptiveThrottling = c.adaptiveThrottling;
      throttleK = c.throttleK;
    }

    /**
     * Sets the latency budget: a {@link LatencyBreaker} call that has not answered by then gets the
     * fallback, and counts as a failure. Default 50 ms.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Checks.requirePositive("timeout", timeout);
      return this;
    }

    /**
     * Sets the failure rate (failures and timeouts, in percent of the calls in the window) at or
     * above which the breaker opens. Default 50.
     *
     * @param percent in (0, 100]
     * @return this builder
     */
    public Builder failureRateThreshold(double percent) {
      this.failureRateThreshold = Checks.requireInRange("failureRateThreshold", percent, 0, false, 100, true);
      return this;
    }

    /**
     * Makes slow calls trip the breaker too: a successful call that took longer than
     * {@code threshold} is slow, and the breaker opens when slow calls reach {@code ratePercent} of
     * the window. Off by default.
     *
     * @param threshold positive, and below {@link #timeout} (checked at build)
     * @param ratePercent in (0, 100]
     * @return this builder
     */
    public Builder slowCalls(Duration threshold, double ratePercent) {
      this.slowCallDurationThreshold = Checks.requirePositive("slowCallDurationThreshold", threshold);
      this.slowCallRateThreshold = Checks.requireInRange("slowCallRateThreshold", ratePercent, 0, false, 100, true);
      return this;
    }

    /**
     * Turns slow-call tripping off (the default).
     *
     * @return this builder
     */
    public Builder noSlowCalls() {
      this.slowCallDurationThreshold = null;
      this.slowCallRateThreshold = 100;
      return this;
    }

    /**
     * Sets the time-based sliding window. Default 10 s in 10 buckets.
     *
     * @param window positive
     * @param buckets in [1, 1000]; must divide the window into whole nanoseconds (checked at build)
     * @return this builder
     */
    public Builder slidingWindow(Duration window, int buckets) {
      this.window = Checks.requirePositive("window", window);
      this.windowBuckets = (int) Checks.requireInRange("windowBuckets", buckets, 1, 1000);
      return this;
    }

    /**
     * Sets how many calls the window must hold before rates are judged. Default 20.
     *
     * @param calls at least 1
     * @return this builder
     */
    public Builder minimumCalls(int calls) {
      this.minimumCalls = (int) Checks.requireInRange("minimumCalls", calls, 1, Integer.MAX_VALUE);
      return this;
    }

    /**
     * Sets how long the breaker stays open after a trip. Default 5 s.
     *
     * @param duration positive
     * @return this builder
     */
    public Builder openDuration(Duration duration) {
      this.openDuration = Checks.requirePositive("openDuration", duration);
      return this;
    }

    /**
     * Multiplies the open duration on each consecutive trip (a trip from half-open without the
     * breaker having closed in between), up to {@code max}. Default: no back-off.
     *
     * @param multiplier at least 1 (1 turns back-off off)
     * @param max the cap; at least the open duration (checked at build)
     * @return this builder
     */
    public Builder openBackoff(double multiplier, Duration max) {
      this.openBackoffMultiplier = Checks.requireInRange("openBackoffMultiplier", multiplier, 1, true, 1000, true);
      this.maxOpenDuration = Checks.requirePositive("maxOpenDuration", max);
      return this;
    }

    /**
     * Sets how many probe calls half-open lets through; their outcomes decide between closing and
     * re-opening. Default 5.
     *
     * @param probes in [1, 10000]
     * @return this builder
     */
    public Builder halfOpenProbes(int probes) {
      this.halfOpenProbes = (int) Checks.requireInRange("halfOpenProbes", probes, 1, 10_000);
      return this;
    }

    /**
     * Bounds the per-key last-good-value cache of a {@link LatencyBreaker}. Default 10,000 keys,
     * 10 min. {@code maxKeys} 0 turns the cache off: a timeout, failure or open breaker then always
     * serves the default value — what a write call (a payment) wants, since an earlier call's answer
     * says nothing about this one.
     *
     * @param maxKeys at least 0 (0: no last good values are kept)
     * @param ttl how long a value stays usable after it was written; positive
     * @return this builder
     */
    public Builder fallbackCache(long maxKeys, Duration ttl) {
      this.fallbackCacheSize = Checks.requireNonNegative("fallbackCacheSize", maxKeys);
      this.fallbackCacheTtl = Checks.requirePositive("fallbackCacheTtl", ttl);
      return this;
    }

    /**
     * Turns adaptive throttling (Google SRE client-side throttling) on or off; off by default.
     * When on, a {@link LatencyBreaker} rejects calls locally with probability
     * {@code max(0, (requests - K * accepts) / (requests + 1))} over the sliding window.
     *
     * @param enabled whether to throttle
     * @param k at least 1; 2 is the usual choice
     * @return this builder
     */
    public Builder adaptiveThrottling(boolean enabled, double k) {
      this.throttleK = Checks.requireInRange("throttleK", k, 1, true, 100, true);
      this.adaptiveThrottling = enabled;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws io.giftkit.core.InvalidConfigException if the window is not a whole number of
     *     nanoseconds per bucket, the slow-call threshold is not below the timeout, or the maximum
     *     open duration is below the open duration
     */
    public BreakerConfig build() {
      if (window.toNanos() % windowBuckets != 0) {
        throw Checks.invalid("windowBuckets",
            "must divide window (" + Checks.describe(window) + ") into equal whole-nanosecond buckets", windowBuckets);
      }
      if (slowCallDurationThreshold != null && slowCallDurationThreshold.compareTo(timeout) >= 0) {
        throw Checks.invalid("slowCallDurationThreshold",
            "must be below timeout (" + Checks.describe(timeout) + ")", slowCallDurationThreshold);
      }
      if (maxOpenDuration.compareTo(openDuration) < 0) {
        throw Checks.invalid("maxOpenDuration",
            "must be at least openDuration (" + Checks.describe(openDuration) + ")", maxOpenDuration);
      }
      return new BreakerConfig(this);
    }
  }
}
