package io.giftkit.boot.cache;

import java.time.Duration;

/**
 * One cache's settings under {@code giftkit.cache.caches.<name>} (or the shared
 * {@code giftkit.cache.defaults}); unset values come from the defaults, then from the library's.
 */
public class CacheSettings {

  /** Most keys L1 (in-process) holds; positive. */
  private Long l1MaxSize;

  /** How long an L1 copy lives; caps staleness when an invalidation is lost. */
  private Duration l1Ttl;

  /** Which keys live in L1: ALL, or HOT_ONLY (only keys the hot-key detector flags). */
  private io.giftkit.cache.TieredCache.L1Policy l1Policy;

  /**
   * How instances learn of changed keys: PUB_SUB (default; keys published in batches on a channel)
   * or CLIENT_TRACKING (Redis CLIENT TRACKING, RESP3 push: sooner, and sees writes by any client;
   * Redis 6+; every instance of the cache must use the same mode).
   */
  private io.giftkit.cache.InvalidationMode invalidationMode;

  /** How long Redis keeps a value. */
  private Duration l2Ttl;

  /** How long an absent value is remembered in both levels. */
  private Duration negativeTtl;

  /** TTL spread, plus or minus this fraction; 0 to 0.5. */
  private Double ttlJitter;

  /** Under HOT_ONLY, reload a hot key in the background this far into its L1 TTL; (0, 1]. */
  private Double refreshAhead;

  /** How long a Redis command may take before the read falls through to the loader. */
  private Duration redisTimeout;

  /** After a Redis failure, skip Redis for this long. */
  private Duration redisRetryAfter;

  /** Under HOT_ONLY: a key is hot when its share of all reads in the window is at least this; (0, 1]. */
  private Double hotShare;

  /** Under HOT_ONLY: a key is hot when it is read at least this many times in the window (instead of hot-share). */
  private Long hotCount;

  /** Under HOT_ONLY: the sliding window hot-key rates are measured over (10 ticks). */
  private Duration hotWindow;

  public Long getL1MaxSize() {
    return l1MaxSize;
  }

  public void setL1MaxSize(Long l1MaxSize) {
    this.l1MaxSize = l1MaxSize;
  }

  public Duration getL1Ttl() {
    return l1Ttl;
  }

  public void setL1Ttl(Duration l1Ttl) {
    this.l1Ttl = l1Ttl;
  }

  public io.giftkit.cache.TieredCache.L1Policy getL1Policy() {
    return l1Policy;
  }

  public void setL1Policy(io.giftkit.cache.TieredCache.L1Policy l1Policy) {
    this.l1Policy = l1Policy;
  }

  public io.giftkit.cache.InvalidationMode getInvalidationMode() {
    return invalidationMode;
  }

  public void setInvalidationMode(io.giftkit.cache.InvalidationMode invalidationMode) {
    this.invalidationMode = invalidationMode;
  }

  public Duration getL2Ttl() {
    return l2Ttl;
  }

  public void setL2Ttl(Duration l2Ttl) {
    this.l2Ttl = l2Ttl;
  }

  public Duration getNegativeTtl() {
    return negativeTtl;
  }

  public void setNegativeTtl(Duration negativeTtl) {
    this.negativeTtl = negativeTtl;
  }

  public Double getTtlJitter() {
    return ttlJitter;
  }

  public void setTtlJitter(Double ttlJitter) {
    this.ttlJitter = ttlJitter;
  }

  public Double getRefreshAhead() {
    return refreshAhead;
  }

  public void setRefreshAhead(Double refreshAhead) {
    this.refreshAhead = refreshAhead;
  }

  public Duration getRedisTimeout() {
    return redisTimeout;
  }

  public void setRedisTimeout(Duration redisTimeout) {
    this.redisTimeout = redisTimeout;
  }

  public Duration getRedisRetryAfter() {
    return redisRetryAfter;
  }

  public void setRedisRetryAfter(Duration redisRetryAfter) {
    this.redisRetryAfter = redisRetryAfter;
  }

  public Double getHotShare() {
    return hotShare;
  }

  public void setHotShare(Double hotShare) {
    this.hotShare = hotShare;
  }

  public Long getHotCount() {
    return hotCount;
  }

  public void setHotCount(Long hotCount) {
    this.hotCount = hotCount;
  }

  public Duration getHotWindow() {
    return hotWindow;
  }

  public void setHotWindow(Duration hotWindow) {
    this.hotWindow = hotWindow;
  }
}
