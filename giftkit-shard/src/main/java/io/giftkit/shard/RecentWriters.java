package io.giftkit.shard;

import io.giftkit.core.Ticker;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The uids that wrote within the last {@code window}, in bounded memory, for read-your-writes.
 *
 * <p>uids are hashed into a fixed table of slots. A slot holds one uid and its deadline; when a
 * second uid with a live deadline lands in a taken slot, the slot becomes shared (any uid hashing
 * there counts as a recent writer until the later deadline). So {@link #recent} may say yes for a uid
 * that did not write (an extra read on the primary) but never says no for one that did within the
 * window (on this instance).
 *
 * <p>Thread-safe and lock-free: {@link #wrote} is a compare-and-set loop over a pure function that
 * allocates one small entry; {@link #recent} is one volatile read and allocates nothing.
 */
final class RecentWriters {

  /** The uid of a shared slot (uids are never negative). */
  private static final long ANY = -1;

  private record Entry(long uid, long deadline) {}

  private final AtomicReferenceArray<Entry> slots;
  private final int mask;
  private final long windowNanos;
  private final Ticker ticker;

  /**
   * @param windowNanos how long after a write its uid counts as recent; positive
   * @param slots the table's size; a power of two
   * @param ticker the time source
   */
  RecentWriters(long windowNanos, int slots, Ticker ticker) {
    this.slots = new AtomicReferenceArray<>(slots);
    this.mask = slots - 1;
    this.windowNanos = windowNanos;
    this.ticker = ticker;
  }

  /** Records that {@code uid} wrote now. */
  void wrote(long uid) {
    long now = ticker.read();
    long deadline = now + windowNanos;
    slots.updateAndGet(index(uid), e -> merge(e, uid, deadline, now));
  }

  private static Entry merge(Entry e, long uid, long deadline, long now) {
    if (e == null || now - e.deadline() >= 0) {
      return new Entry(uid, deadline); // empty or expired: ours alone
    }
    long later = deadline - e.deadline() > 0 ? deadline : e.deadline();
    return new Entry(e.uid() == uid ? uid : ANY, later); // another live uid here: shared until both expire
  }

  /** @return whether {@code uid} may have written within the window before ticker time {@code now} */
  boolean recent(long uid, long now) {
    Entry e = slots.get(index(uid));
    return e != null && now - e.deadline() < 0 && (e.uid() == uid || e.uid() == ANY);
  }

  long windowNanos() {
    return windowNanos;
  }

  int slots() {
    return mask + 1;
  }

  int index(long uid) {
    long h = uid * 0x9E3779B97F4A7C15L; // Fibonacci hashing: consecutive uids spread over the table
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
