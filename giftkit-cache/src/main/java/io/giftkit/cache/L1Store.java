package io.giftkit.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.cache.TieredCache.L1Policy;
import io.giftkit.core.Ticker;
import java.time.Duration;

/**
 * A {@link TieredCache}'s L1: Caffeine with a fixed expiry, the L1 policy, and the per-key
 * {@link KeyGenerations} that keep a load from writing L1 after an invalidation of its key.
 * Thread-safe.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class L1Store<K, V> {

  /** An L1 entry: the value (null when absent), when it was stored, and for how long it is good. */
  record Entry<V>(V value, long storedAtNanos, long ttlNanos) {}

  private final Cache<K, Entry<V>> cache;
  private final KeyGenerations generations = new KeyGenerations();
  private final L1Policy policy;
  private final HotKeyDetector<K> detector;
  private final Ticker ticker;
  private final long ttlNanos;
  private final long negativeTtlNanos;
  private final CacheCounters counters;

  L1Store(long maxSize, Duration ttl, Duration negativeTtl, L1Policy policy, HotKeyDetector<K> detector, Ticker ticker,
      CacheCounters counters) {
    // A fixed expiry keeps the hit path as cheap as Caffeine's own (a variable expiry costs a timer
    // update on every read); negative entries, which live shorter, are checked by age on read.
    this.cache = Caffeine.newBuilder().maximumSize(maxSize).expireAfterWrite(ttl).ticker(ticker::read).build();
    this.policy = policy;
    this.detector = detector;
    this.ticker = ticker;
    this.ttlNanos = ttl.toNanos();
    this.negativeTtlNanos = negativeTtl.toNanos();
    this.counters = counters;
  }

  /** The hit path: one Caffeine read. */
  Entry<V> getIfPresent(K key) {
    return cache.getIfPresent(key);
  }

  /** @return the key's generation: take it before a load reads Redis or calls the loader */
  long generation(K key) {
    return generations.snapshot(key);
  }

  /**
   * Keeps a value read from Redis or loaded, if the policy wants it in L1 and the key was not
   * invalidated since {@code generation}; returns the entry either way.
   */
  Entry<V> keep(K key, V value, boolean absent, long generation) {
    long ttl = absent ? Math.min(negativeTtlNanos, ttlNanos) : ttlNanos;
    Entry<V> entry = new Entry<>(value, ticker.read(), ttl);
    if (wanted(key) && !generations.writeIfUnchanged(key, generation, () -> store(key, entry))) {
      counters.staleLoadWritesSkipped.increment();
    }
    return entry;
  }

  /** A {@code put}: advances the key's generation and stores the value (or drops the key if not wanted). */
  void replace(K key, V value) {
    Entry<V> entry = new Entry<>(value, ticker.read(), ttlNanos);
    generations.advance(key, () -> {
      if (wanted(key)) {
        store(key, entry);
      } else {
        cache.invalidate(key);
      }
    });
  }

  /** An invalidation: advances the key's generation and drops its entry. */
  void drop(K key) {
    generations.advance(key, () -> cache.invalidate(key));
  }

  /** Drops everything (invalidations may have been missed); loads in flight write nothing after. */
  void clear() {
    generations.advanceAll();
    cache.invalidateAll();
  }

  /** A key cooled (HOT_ONLY): its entry leaves L1. */
  void demote(K key) {
    if (cache.asMap().remove(key) != null) {
      counters.demotions.increment();
    }
  }

  boolean contains(K key) {
    return cache.getIfPresent(key) != null;
  }

  private boolean wanted(K key) {
    return policy == L1Policy.ALL || detector.isHot(key);
  }

  private void store(K key, Entry<V> entry) {
    if (cache.asMap().put(key, entry) == null && policy == L1Policy.HOT_ONLY) {
      counters.promotions.increment();
    }
  }
}
