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
 * @param invalidationsSent keys published for other instances to drop
 * @param invalidationsReceived keys other instances told this one to drop
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
 */
public record CacheStats(long l1Hits, long l1Misses, long coalesced, long l2Hits, long l2Misses, long loads,
    long loadFailures, long promotions, long demotions, long invalidationsSent, long invalidationsReceived,
    long redisErrors, long decodeFailures, long loadLockWaits, long staleLoadWritesSkipped,
    long invalidationsQueued, long invalidationsDropped, long redisConnectFailures) {}
