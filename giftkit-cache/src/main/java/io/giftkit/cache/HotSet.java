package io.giftkit.cache;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToLongFunction;

/**
 * The hot keys of a {@link HotKeyDetector}: at most {@code max} keys, each with a striped counter of
 * its records since its promotion, and the order in which a full set gives up its keys.
 *
 * <p><b>Why no scan per candidate.</b> When the set is full, a newcomer replaces the coldest key only
 * if it is more than 1.5 times as hot. Finding the coldest key by scanning the set for every candidate
 * made each record of a warm key cost O(max) (the cliff of issue #17, item 9). Instead the keys are
 * ranked by their estimate, coldest first, once per tick ({@link #refresh}) and again whenever that
 * order is used up, and a candidate is compared with the coldest, re-estimated now, of the next
 * {@value #WINDOW} keys of the order (sampled eviction over the ranking, so that a key that heated up
 * since the ranking does not stand in the way: one at least as hot as the candidate is stepped past).
 * The result is kept as a bar (1.5 times that estimate): a candidate at or below the bar is refused by
 * one volatile read, without the lock. Per candidate that is O(1): one volatile read, or under the
 * lock O({@value #WINDOW}) estimates; a ranking costs O(m log m) for m hot keys, once per tick and once
 * per m steps of the cursor (each an eviction or a key stepped past, at most {@value #WINDOW} per
 * candidate), so O(log m) amortised per candidate that reaches the lock. Keys promoted or stepped past
 * since the last ranking are not evicted before the next ranking.
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

  /** How many keys of the eviction order a candidate is compared with (the coldest of them). */
  static final int WINDOW = 8;

  private static final int INDEX_BITS = 20; // maxHotKeys is at most 1,000,000 < 2^20
  private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
  // Estimates above this rank as equal: far hotter than any candidate a set would give them up for.
  private static final long MAX_RANKED_ESTIMATE = (1L << (63 - INDEX_BITS)) - 1;

  private final int max;
  private final ToLongFunction<K> estimator;
  private final Membership<K> membership;
  private final ConcurrentHashMap<K, LongAdder> counts = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock.
  private int size;
  private Object[] evictionOrder = NONE; // the keys hot at the last ranking, coldest first
  private int orderLength;
  private int nextToEvict;
  private long[] ranking = {}; // scratch for rank()
  private Object[] rankedKeys = NONE; // scratch for rank()
  // 0 while the set has room. A full set refuses any candidate whose estimate is at most this, without
  // the lock: 1.5 times the coldest estimate of the window when last read (estimates only grow between
  // ticks, and a removal, a ranking or a window stepped past entirely resets it; a window partly stepped
  // past sets it from the keys that remain).
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

  /**
   * The hot keys at one instant: copied under the lock, so never more than {@code max} of them. A live
   * view of the map would not do: iterated while a newcomer replaces a key, it can show both.
   *
   * @return a new list
   */
  List<K> keys() {
    lock.lock();
    try {
      return new ArrayList<>(counts.keySet());
    } finally {
      lock.unlock();
    }
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
    } finally {
      lock.unlock();
    }
  }

  /**
   * Demotes the keys below {@code coolBelow} and sorts the others into the eviction order. Allocates
   * nothing once its arrays have grown to the set's size: each key is sorted as one long, its estimate
   * in the high bits and its position in the low 20 bits.
   */
  private void rank(long coolBelow) {
    if (ranking.length < size) {
      ranking = new long[size];
      rankedKeys = new Object[size];
      evictionOrder = new Object[size];
    }
    int n = 0;
    for (K key : counts.keySet()) {
      long estimate = estimator.applyAsLong(key);
      if (estimate < coolBelow) {
        demote(key);
      } else if (n < ranking.length) { // a listener that records re-entrantly could add keys meanwhile
        rankedKeys[n] = key;
        ranking[n] = Math.min(estimate, MAX_RANKED_ESTIMATE) << INDEX_BITS | n;
        n++;
      }
    }
    Arrays.sort(ranking, 0, n);
    for (int i = 0; i < n; i++) {
      evictionOrder[i] = rankedKeys[(int) (ranking[i] & INDEX_MASK)];
    }
    Arrays.fill(rankedKeys, 0, n, null);
    Arrays.fill(evictionOrder, n, evictionOrder.length, null); // holds no demoted key
    orderLength = n;
    nextToEvict = 0;
    bar = 0; // the next candidate over the threshold reads the new coldest key under the lock
  }

  /**
   * Evicts the coldest of the next {@link #WINDOW} keys of the order if {@code estimate} beats it by 1.5
   * times, or sets the bar. O(WINDOW) per call, plus a ranking whenever the order is used up.
   */
  private boolean evictOneColderThan(long estimate) {
    if (nextToEvict >= orderLength) {
      // Used up (or never made: no tick yet). Ranking again costs O(m log m), paid for by the m steps of
      // the cursor it takes to use up the new order (each call steps it at most WINDOW times).
      rank(Long.MIN_VALUE);
    }
    Object[] order = evictionOrder;
    int end = Math.min(orderLength, nextToEvict + WINDOW);
    int coldestAt = -1;
    long coldestEstimate = Long.MAX_VALUE;
    for (int i = nextToEvict; i < end; i++) {
      @SuppressWarnings("unchecked")
      K key = (K) order[i];
      long e = counts.containsKey(key) ? estimator.applyAsLong(key) : Long.MAX_VALUE;
      if (e >= estimate) {
        // Gone, or at least as hot as this candidate (it heated up since the ranking): not a victim
        // before the next ranking. Step the cursor past it, keeping the window's other keys after it.
        order[i] = order[nextToEvict];
        order[nextToEvict] = key;
        if (coldestAt == nextToEvict) {
          coldestAt = i;
        }
        nextToEvict++;
      } else if (e < coldestEstimate) {
        coldestAt = i;
        coldestEstimate = e;
      }
    }
    if (coldestAt < 0) {
      bar = 0; // the whole window stepped past: the next candidate looks at the next one
      return false;
    }
    // Only a clearly hotter key takes a place: among keys about as hot, swapping would churn.
    long needed = coldestEstimate > Long.MAX_VALUE / 3 ? Long.MAX_VALUE : coldestEstimate * 3 / 2;
    if (needed >= estimate) {
      bar = needed;
      return false;
    }
    Object coldest = order[coldestAt];
    order[coldestAt] = order[nextToEvict];
    order[nextToEvict++] = coldest;
    @SuppressWarnings("unchecked")
    K victim = (K) coldest;
    demote(victim);
    return true;
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
