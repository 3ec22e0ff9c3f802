package io.giftkit.breaker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.core.Checks;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One token bucket per key (per uid, per room …) with bounded memory: at most {@code maxKeys}
 * buckets are kept (a Caffeine cache, evicting by size with its frequency-aware policy, and idle
 * buckets after {@code idleTimeout}). Resilience4j and Sentinel keep per-key state forever (their
 * issues #1221 and #3388); this one cannot grow past its bound however many distinct keys pass.
 *
 * <p>An evicted key starts again with a full bucket, so a bound too small for the number of active
 * keys lets evicted keys burst again; size it for the keys active within {@code idleTimeout}.
 *
 * <p>Thread-safe. {@link #tryAcquire} allocates only when it meets a key it does not hold.
 *
 * @param <K> the key type
 */
public final class KeyedRateLimiter<K> {

  private final Ticker ticker;
  private final long intervalNanos;
  private final long toleranceNanos;
  private final Cache<K, AtomicLong> buckets;
  private final Function<K, AtomicLong> newBucket;

  private KeyedRateLimiter(double permitsPerSecond, int burst, long maxKeys, Duration idleTimeout, Ticker ticker) {
    this.ticker = ticker;
    this.intervalNanos = RateLimiter.intervalNanos(permitsPerSecond);
    this.toleranceNanos = (burst - 1) * intervalNanos;
    this.buckets = Caffeine.newBuilder()
        .maximumSize(maxKeys)
        .expireAfterAccess(idleTimeout)
        .ticker(ticker::read)
        .executor(Runnable::run) // evict on the calling thread: the bound holds without a background pool
        .build();
    this.newBucket = k -> new AtomicLong(ticker.read());
  }

  /**
   * Creates a keyed limiter.
   *
   * @param <K> the key type
   * @param permitsPerSecond each key's average rate; in (0, 1e9]
   * @param burst each key's burst; at least 1
   * @param maxKeys the most keys held at once; at least 1
   * @param idleTimeout a key unused this long is forgotten; positive
   * @param ticker the time source
   * @return the limiter
   */
  public static <K> KeyedRateLimiter<K> of(
      double permitsPerSecond, int burst, long maxKeys, Duration idleTimeout, Ticker ticker) {
    RateLimiter.checkRate(permitsPerSecond, burst);
    Checks.requirePositive("maxKeys", maxKeys);
    Checks.requirePositive("idleTimeout", idleTimeout);
    return new KeyedRateLimiter<>(permitsPerSecond, burst, maxKeys, idleTimeout, Checks.requireNonNull("ticker", ticker));
  }

  /**
   * Creates a keyed limiter reading the system ticker.
   *
   * @param <K> the key type
   * @param permitsPerSecond each key's average rate
   * @param burst each key's burst
   * @param maxKeys the most keys held at once
   * @param idleTimeout a key unused this long is forgotten
   * @return the limiter
   */
  public static <K> KeyedRateLimiter<K> of(double permitsPerSecond, int burst, long maxKeys, Duration idleTimeout) {
    return of(permitsPerSecond, burst, maxKeys, idleTimeout, Ticker.system());
  }

  /**
   * Takes a permit for {@code key} if one is available now.
   *
   * @param key the key; not null
   * @return whether the call may proceed
   */
  public boolean tryAcquire(K key) {
    Objects.requireNonNull(key, "key");
    AtomicLong tat = buckets.get(key, newBucket);
    return RateLimiter.tryAcquire(tat, ticker.read(), intervalNanos, toleranceNanos);
  }

  /**
   * Returns how many keys are held now (after pending evictions are done).
   *
   * @return the number of buckets
   */
  public long size() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }
}
