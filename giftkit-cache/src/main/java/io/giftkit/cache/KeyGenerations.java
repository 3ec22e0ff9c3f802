package io.giftkit.cache;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-key generations of a {@link TieredCache}, so that a load that started before an invalidation
 * of its key never writes its value to L1 after it. Striped: a key maps to one of {@value #STRIPES}
 * counters, so memory is fixed whatever the keys (an invalidation of another key of the same stripe
 * only makes a racing load skip its L1 write, which costs a later miss, never a stale read).
 *
 * <p>An invalidation advances the stripe and drops the L1 entry under the stripe's lock; a load
 * checks its snapshot and writes L1 under the same lock. So either the write comes first and the
 * invalidation removes it, or the invalidation comes first and the write is skipped: once
 * {@link #advance} returned, no reader sees the old value in L1. Thread-safe; the locks are held
 * only around one L1 operation.
 */
final class KeyGenerations {

  static final int STRIPES = 4096;

  private final AtomicLongArray generations = new AtomicLongArray(STRIPES);
  private final Object[] locks = new Object[STRIPES];

  KeyGenerations() {
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new Object();
    }
  }

  /** @return the key's generation now: take it before reading Redis or calling the loader */
  long snapshot(Object key) {
    return generations.get(index(key));
  }

  /**
   * Runs {@code write} if the key's generation is still {@code snapshot}.
   *
   * @return whether it ran
   */
  boolean writeIfUnchanged(Object key, long snapshot, Runnable write) {
    int i = index(key);
    synchronized (locks[i]) {
      if (generations.get(i) != snapshot) {
        return false;
      }
      write.run();
      return true;
    }
  }

  /** Advances the key's generation, then runs {@code drop} (removing or replacing its L1 entry). */
  void advance(Object key, Runnable drop) {
    int i = index(key);
    synchronized (locks[i]) {
      generations.incrementAndGet(i);
      drop.run();
    }
  }

  /** Advances every generation (before clearing all of L1), so no load in flight writes L1 after. */
  void advanceAll() {
    for (int i = 0; i < STRIPES; i++) {
      synchronized (locks[i]) {
        generations.incrementAndGet(i);
      }
    }
  }

  private static int index(Object key) {
    int h = key.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    return h & (STRIPES - 1);
  }
}
