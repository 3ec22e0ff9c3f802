package io.giftkit.cache;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToLongFunction;

/**
 * The hot keys of a {@link HotKeyDetector}: at most {@code max} keys, each with a striped counter of
 * its records since its promotion, and the order in which a full set gives up its keys.
 *
 * <p><b>Why no scan per candidate.</b> When the set is full, a newcomer replaces the coldest key only
 * if it is at least 1.5 times as hot. Finding the coldest key by scanning the set for every candidate
 * made each record of a warm key cost O(max) (the cliff of issue #17, item 9). Instead, once per tick
 * ({@link #refresh}) the keys are sorted by their estimate, coldest first; a candidate is compared with
 * the coldest key of that order still in the set, re-estimated now, and the result is kept as a bar
 * (1.5 times that estimate): a candidate at or below the bar is refused by one volatile read, without
 * the lock. Every operation is then O(1) per candidate (amortised: the cursor into the order only moves
 * forward, so each key is passed over at most once per tick) plus O(m log m) per tick for m hot keys.
 * Keys promoted since the last refresh are not in the order, so they cannot be evicted before the next
 * tick, unless the order is used up (or was never made, before the first tick): then the keys are
 * ranked once more, and after that the set takes no newcomer until the next tick.
 *
 * <p><b>Concurrency.</b> Look-ups ({@link #counter}, {@link #contains}, {@link #bar}) take no lock.
 * Membership changes run under one lock, so the size bound holds exactly and a key's promotion and
 * demotion are reported in order; {@link #offer} only tries the lock (a candidate that finds it taken
 * is refused, and its key's next record tries again), {@link #remove} and {@link #refresh} wait for it.
 * The {@link Membership} callbacks run under the lock.
 *
 * @param <K> the key type
 */
final class HotSet<K> {

  /** Hears membership changes; called under the set's lock. */
  interface Membership<K> {

    /**
     * A key was promoted.
     *
     * @param key the key
     * @param estimate the estimate it was promoted with
     */
    void promoted(K key, long estimate);

    /**
     * A key was demoted.
     *
     * @param key the key
     * @param countSincePromotion what its own counter held (sampled units, decayed)
     */
    void demoted(K key, long countSincePromotion);
  }

  private static final Object[] NONE = {};

  /** A hot key with its estimate at a refresh. */
  private record Ranked(Object key, long estimate) {}

  private final int max;
  private final ToLongFunction<K> estimator;
  private final Membership<K> membership;
  private final ConcurrentHashMap<K, LongAdder> counts = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock.
  private int size;
  private Object[] evictionOrder = NONE; // the keys hot at the last refresh, coldest first
  private int nextToEvict;
  private boolean rankedSinceRefresh; // an extra ranking when the order is used up: once per tick
  // 0 while the set has room. A full set refuses any candidate whose estimate is at most this, without
  // the lock: 1.5 times the current eviction candidate's estimate when last read (estimates only grow
  // between ticks, and any removal or refresh resets it), Long.MAX_VALUE once the order is used up.
  private volatile long bar;

  /**
   * Creates an empty set.
   *
   * @param max the most keys it may hold, positive
   * @param estimator a hot key's current estimate (sketch count plus its own counter, scaled)
   * @param membership hears promotions and demotions
   */
  HotSet(int max, ToLongFunction<K> estimator, Membership<K> membership) {
    this.max = max;
    this.estimator = estimator;
    this.membership = membership;
  }

  /**
   * The counter of a hot key.
   *
   * @param key the key
   * @return its counter, or null if it is not hot
   */
  LongAdder counter(K key) {
    return counts.get(key);
  }

  boolean contains(K key) {
    return counts.containsKey(key);
  }

  /** @return the hot keys now (a live view; weakly consistent) */
  Set<K> keys() {
    return counts.keySet();
  }

  /**
   * The estimate a candidate must exceed to be worth the lock; 0 while the set has room.
   *
   * @return the bar
   */
  long bar() {
    return bar;
  }

  /**
   * Tries to promote a key whose estimate reached the threshold. If the set is full the key replaces
   * the coldest key of the eviction order only if its estimate is more than 1.5 times that key's.
   *
   * @param key the key
   * @param estimate its estimate now
   * @return whether it was promoted
   */
  boolean offer(K key, long estimate) {
    if (estimate <= bar || !lock.tryLock()) {
      return false;
    }
    try {
      if (counts.containsKey(key)) {
        return false;
      }
      if (size >= max && !evictOneColderThan(estimate)) {
        return false;
      }
      counts.put(key, new LongAdder());
      size++;
      membership.promoted(key, estimate);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Demotes a key now.
   *
   * @param key the key
   * @return whether it was hot
   */
  boolean remove(K key) {
    lock.lock();
    try {
      return demote(key);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Multiplies every hot key's own counter by {@code factor} (once per tick). A record racing this
   * may be lost, once per tick.
   *
   * @param factor in [0, 1]
   */
  void decay(double factor) {
    for (LongAdder count : counts.values()) {
      long v = count.sumThenReset();
      count.add((long) (v * factor));
    }
  }

  /**
   * Demotes the keys whose estimate is below {@code coolBelow} and sorts the others into the eviction
   * order, coldest first. O(m log m) for m hot keys; called once per tick and by
   * {@link HotKeyDetector#hotKeys()}.
   *
   * @param coolBelow the cool-down level
   */
  void refresh(long coolBelow) {
    lock.lock();
    try {
      rank(coolBelow);
      rankedSinceRefresh = false;
    } finally {
      lock.unlock();
    }
  }

  /** Demotes the keys below {@code coolBelow} and sorts the others into the eviction order. */
  private void rank(long coolBelow) {
    Ranked[] ranked = new Ranked[size];
    int n = 0;
    for (K key : counts.keySet()) {
      long estimate = estimator.applyAsLong(key);
      if (estimate < coolBelow) {
        demote(key);
      } else if (n < ranked.length) { // a listener that records re-entrantly could add keys meanwhile
        ranked[n++] = new Ranked(key, estimate);
      }
    }
    Arrays.sort(ranked, 0, n, Comparator.comparingLong(Ranked::estimate));
    Object[] order = new Object[n];
    for (int i = 0; i < n; i++) {
      order[i] = ranked[i].key();
    }
    evictionOrder = order;
    nextToEvict = 0;
    bar = 0; // the next candidate over the threshold reads the new coldest key under the lock
  }

  /** Evicts the coldest key of the order if {@code estimate} beats it by 1.5 times; sets the bar if not. */
  private boolean evictOneColderThan(long estimate) {
    while (nextToEvict < evictionOrder.length) {
      @SuppressWarnings("unchecked")
      K coldest = (K) evictionOrder[nextToEvict];
      if (!counts.containsKey(coldest)) {
        nextToEvict++; // demoted since the refresh
        continue;
      }
      long coldestEstimate = estimator.applyAsLong(coldest);
      // Only a clearly hotter key takes a place: among keys about as hot, swapping would churn.
      long needed = coldestEstimate > Long.MAX_VALUE / 3 ? Long.MAX_VALUE : coldestEstimate * 3 / 2;
      if (needed >= estimate) {
        bar = needed;
        return false;
      }
      nextToEvict++;
      demote(coldest);
      return true;
    }
    if (!rankedSinceRefresh) {
      // The order is used up (or was never made: no tick yet). Rank the keys promoted since, once.
      rank(Long.MIN_VALUE);
      rankedSinceRefresh = true;
      return evictOneColderThan(estimate);
    }
    bar = Long.MAX_VALUE; // every key of the order is gone: the newer ones stay until the next refresh
    return false;
  }

  private boolean demote(K key) {
    LongAdder count = counts.remove(key);
    if (count == null) {
      return false;
    }
    size--;
    bar = 0;
    membership.demoted(key, count.sum());
    return true;
  }
}
