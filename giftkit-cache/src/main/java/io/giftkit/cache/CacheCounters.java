package io.giftkit.cache;

import java.util.concurrent.atomic.LongAdder;

/** The counters of one {@link TieredCache}, shared by its parts; striped, so cheap on hot paths. */
final class CacheCounters {
  final LongAdder l1Hits = new LongAdder();
  final LongAdder l1Misses = new LongAdder();
  final LongAdder l2Hits = new LongAdder();
  final LongAdder l2Misses = new LongAdder();
  final LongAdder loads = new LongAdder();
  final LongAdder loadFailures = new LongAdder();
  final LongAdder promotions = new LongAdder();
  final LongAdder demotions = new LongAdder();
  final LongAdder decodeFailures = new LongAdder();
  final LongAdder loadLockWaits = new LongAdder();
  final LongAdder staleLoadWritesSkipped = new LongAdder();
  final LongAdder l1Clears = new LongAdder();

  CacheStats snapshot(long coalesced, Invalidations invalidations, RedisLink link) {
    return new CacheStats(l1Hits.sum(), l1Misses.sum(), coalesced, l2Hits.sum(), l2Misses.sum(), loads.sum(),
        loadFailures.sum(), promotions.sum(), demotions.sum(), invalidations.sent(), invalidations.received(),
        link.errors(), decodeFailures.sum(), loadLockWaits.sum(), staleLoadWritesSkipped.sum(),
        invalidations.queued(), invalidations.dropped(), link.connectFailures(), l1Clears.sum());
  }
}
