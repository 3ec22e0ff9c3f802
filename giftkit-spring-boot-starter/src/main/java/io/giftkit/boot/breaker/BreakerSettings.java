package io.giftkit.boot.breaker;

import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.breaker.BreakerConfig;
import io.giftkit.core.InvalidConfigException;
import java.time.Duration;

/**
 * One breaker's settings under {@code giftkit.breaker.defaults.*} or
 * {@code giftkit.breaker.instances.<name>.*}. Every setting is optional: an instance inherits what
 * it does not set from the defaults, and the defaults from {@link BreakerConfig#ofDefaults()}.
 */
public class BreakerSettings {

  /** Latency budget of a call; the caller gets the fallback when it passes. Default 50ms. */
  private Duration timeout;

  /** Failure rate, in percent of the calls in the window, at or above which the breaker opens; in (0, 100]. Default 50. */
  private Double failureRateThreshold;

  /** A successful call slower than this counts as slow; must be below the timeout. Slow calls do not trip the breaker unless this is set. */
  private Duration slowCallDurationThreshold;

  /** Slow-call rate, in percent, at or above which the breaker opens (only with slow-call-duration-threshold); in (0, 100]. Default 100. */
  private Double slowCallRateThreshold;

  /** Length of the time-based sliding window. Default 10s. */
  private Duration window;

  /** Number of buckets the window is divided into; must divide it evenly; in [1, 1000]. Default 10. */
  private Integer windowBuckets;

  /** Calls the window must hold before rates are judged; at least 1. Default 20. */
  private Integer minimumCalls;

  /** How long the breaker stays open after a trip. Default 5s. */
  private Duration openDuration;

  /** Factor applied to the open duration on each consecutive trip; 1 turns back-off off. Default 1. */
  private Double openBackoffMultiplier;

  /** Cap of the open duration under back-off; at least open-duration. Default 5m. */
  private Duration maxOpenDuration;

  /** Probe calls let through in half-open; in [1, 10000]. Default 5. */
  private Integer halfOpenProbes;

  /** Most keys whose last good value is kept; 0 keeps none (write calls such as payments). Default 10000. */
  private Long fallbackCacheSize;

  /** How long a last good value stays usable after it was written. Default 10m. */
  private Duration fallbackCacheTtl;

  /** Whether adaptive (Google SRE client-side) throttling is on. Default false. */
  private Boolean adaptiveThrottling;

  /** K of adaptive throttling; in [1, 100]. Default 2. */
  private Double throttleK;

  /**
   * Applies the settings that are set onto {@code builder}, whose other values come from {@code base}.
   *
   * @param builder the builder to change
   * @param base the configuration the builder started from (for settings set in pairs)
   * @param prefix the properties' prefix, for error messages
   * @return the builder
   * @throws GiftkitPropertyException naming the property, if a value breaks a rule
   */
  BreakerConfig.Builder applyTo(BreakerConfig.Builder builder, BreakerConfig base, String prefix) {
    try {
      if (timeout != null) {
        builder.timeout(timeout);
      }
      if (failureRateThreshold != null) {
        builder.failureRateThreshold(failureRateThreshold);
      }
      if (slowCallDurationThreshold != null || slowCallRateThreshold != null) {
        Duration threshold = slowCallDurationThreshold != null ? slowCallDurationThreshold : base.slowCallDurationThreshold();
        double rate = slowCallRateThreshold != null ? slowCallRateThreshold : base.slowCallRateThreshold();
        if (threshold == null) {
          throw io.giftkit.core.Checks.invalid("slowCallDurationThreshold",
              "must be set when slow-call-rate-threshold is", null);
        }
        builder.slowCalls(threshold, rate);
      }
      if (window != null || windowBuckets != null) {
        builder.slidingWindow(window != null ? window : base.window(),
            windowBuckets != null ? windowBuckets : base.windowBuckets());
      }
      if (minimumCalls != null) {
        builder.minimumCalls(minimumCalls);
      }
      if (openDuration != null) {
        builder.openDuration(openDuration);
      }
      if (openBackoffMultiplier != null || maxOpenDuration != null) {
        builder.openBackoff(openBackoffMultiplier != null ? openBackoffMultiplier : base.openBackoffMultiplier(),
            maxOpenDuration != null ? maxOpenDuration : base.maxOpenDuration());
      }
      if (halfOpenProbes != null) {
        builder.halfOpenProbes(halfOpenProbes);
      }
      if (fallbackCacheSize != null || fallbackCacheTtl != null) {
        builder.fallbackCache(fallbackCacheSize != null ? fallbackCacheSize : base.fallbackCacheSize(),
            fallbackCacheTtl != null ? fallbackCacheTtl : base.fallbackCacheTtl());
      }
      if (adaptiveThrottling != null || throttleK != null) {
        builder.adaptiveThrottling(adaptiveThrottling != null ? adaptiveThrottling : base.adaptiveThrottling(),
            throttleK != null ? throttleK : base.throttleK());
      }
      return builder;
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
  }

  public Duration getTimeout() {
    return timeout;
  }

  public void setTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  public Double getFailureRateThreshold() {
    return failureRateThreshold;
  }

  public void setFailureRateThreshold(Double failureRateThreshold) {
    this.failureRateThreshold = failureRateThreshold;
  }

  public Duration getSlowCallDurationThreshold() {
    return slowCallDurationThreshold;
  }

  public void setSlowCallDurationThreshold(Duration slowCallDurationThreshold) {
    this.slowCallDurationThreshold = slowCallDurationThreshold;
  }

  public Double getSlowCallRateThreshold() {
    return slowCallRateThreshold;
  }

  public void setSlowCallRateThreshold(Double slowCallRateThreshold) {
    this.slowCallRateThreshold = slowCallRateThreshold;
  }

  public Duration getWindow() {
    return window;
  }

  public void setWindow(Duration window) {
    this.window = window;
  }

  public Integer getWindowBuckets() {
    return windowBuckets;
  }

  public void setWindowBuckets(Integer windowBuckets) {
    this.windowBuckets = windowBuckets;
  }

  public Integer getMinimumCalls() {
    return minimumCalls;
  }

  public void setMinimumCalls(Integer minimumCalls) {
    this.minimumCalls = minimumCalls;
  }

  public Duration getOpenDuration() {
    return openDuration;
  }

  public void setOpenDuration(Duration openDuration) {
    this.openDuration = openDuration;
  }

  public Double getOpenBackoffMultiplier() {
    return openBackoffMultiplier;
  }

  public void setOpenBackoffMultiplier(Double openBackoffMultiplier) {
    this.openBackoffMultiplier = openBackoffMultiplier;
  }

  public Duration getMaxOpenDuration() {
    return maxOpenDuration;
  }

  public void setMaxOpenDuration(Duration maxOpenDuration) {
    this.maxOpenDuration = maxOpenDuration;
  }

  public Integer getHalfOpenProbes() {
    return halfOpenProbes;
  }

  public void setHalfOpenProbes(Integer halfOpenProbes) {
    this.halfOpenProbes = halfOpenProbes;
  }

  public Long getFallbackCacheSize() {
    return fallbackCacheSize;
  }

  public void setFallbackCacheSize(Long fallbackCacheSize) {
    this.fallbackCacheSize = fallbackCacheSize;
  }

  public Duration getFallbackCacheTtl() {
    return fallbackCacheTtl;
  }

  public void setFallbackCacheTtl(Duration fallbackCacheTtl) {
    this.fallbackCacheTtl = fallbackCacheTtl;
  }

  public Boolean getAdaptiveThrottling() {
    return adaptiveThrottling;
  }

  public void setAdaptiveThrottling(Boolean adaptiveThrottling) {
    this.adaptiveThrottling = adaptiveThrottling;
  }

  public Double getThrottleK() {
    return throttleK;
  }

  public void setThrottleK(Double throttleK) {
    this.throttleK = throttleK;
  }
}
