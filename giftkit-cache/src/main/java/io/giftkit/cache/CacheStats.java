package io.giftkit.cache;

/**
 * Counts of a {@link TieredCache} since it was created, for metrics. Every {@code get} is an L1 hit
 * or an L1 miss; every L1 miss is coalesced into another's load, or is an L2 hit, or an L2 miss (or
 * skipped L2 while Redis was down) followed by a load.
 *
 * @param l1Hits reads answered by L1 (negative entries included)
 * @param l1Misses reads L1 could not answer
 * @param coalesced L1 misses that waited for another caller's load of the same key
 * @param l2Hits loads answered by Redis
 * @param l2Misses loads Redis could not answer (absent, undecodable, or Redis down)
 * @param loads calls of the loader
 * @param loadFailures loader calls that threw
 * @param promotions keys put into L1 because the detector said they are hot (HOT_ONLY policy)
 * @param demotions keys dropped from L1 because they cooled (HOT_ONLY policy)
 * @param invalidationsSent keys published for other instances to drop (under
 *     {@link InvalidationMode#CLIENT_TRACKING}: keys this instance invalidated or put, whose Redis
 *     write tells the others)
 * @param invalidationsReceived keys other instances told this one to drop (under
 *     {@link InvalidationMode#CLIENT_TRACKING}: keys of this cache's prefix that Redis said were
 *     written, deleted, expired or evicted by another connection, other instances' loads included)
 * @param redisErrors Redis commands that failed or timed out
 * @param decodeFailures Redis values the codec could not decode
 * @param loadLockWaits misses that found another instance loading the key (load lock held) and
 *     waited for its value
 * @param staleLoadWritesSkipped writes of a loaded value to L1 or Redis that were skipped because
 *     the key was invalidated (here, or in Redis by any instance) after the load started
 * @param invalidationsQueued Redis invalidations (of {@code invalidate}, or of a {@code put} whose
 *     write failed) that Redis did not answer at once and that were queued
 * @param invalidationsDropped invalidations dropped because {@code maxPendingInvalidations} keys
 *     were already waiting for Redis
 * @param redisConnectFailures attempts to connect that failed (building while Redis is down, and the
 *     background attempts after it); also counted in {@code redisErrors}
 * @param l1Clears times all of L1 was dropped because invalidations may have been missed or all
 *     keys changed: each (re)connect of the invalidation connection (pub/sub, or the tracked
 *     command connection once tracking is on again), a {@code FLUSHALL}/{@code FLUSHDB} under
 *     client tracking, and another instance's "drop all" after its invalidation queue overflowed
 */
public record CacheStats(long l1Hits, long l1Misses, long coalesced, long l2Hits, long l2Misses, long loads,
    long loadFailures, long promotions, long demotions, long invalidationsSent, long invalidationsReceived,
    long redisErrors, long decodeFailures, long loadLockWaits, long staleLoadWritesSkipped,
    long invalidationsQueued, long invalidationsDropped, long redisConnectFailures, long l1Clears) {}
