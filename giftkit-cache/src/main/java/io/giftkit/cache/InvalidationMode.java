package io.giftkit.cache;

/**
 * How a {@link TieredCache}'s instances learn that a key changed, so that they drop their L1 copies.
 * Every instance sharing a cache's Redis keys must use the same mode: a {@code PUB_SUB} instance
 * does not hear a {@code CLIENT_TRACKING} instance's invalidations (the other way round works,
 * since every invalidation writes Redis).
 */
public enum InvalidationMode {

  /**
   * The default: an instance publishes the keys it invalidated or put on a pub/sub channel (in
   * batches of {@code invalidationBatch}, 5 ms by default), after their Redis write. Works on any
   * Redis and any protocol; sees only changes made through a {@link TieredCache}.
   */
  PUB_SUB,

  /**
   * Redis server-assisted client-side caching ({@code CLIENT TRACKING ON BCAST PREFIX <keyPrefix>:
   * NOLOOP}) on the cache's command connection: Redis itself tells every instance, by a RESP3 push
   * message, of each write, delete, expiry or eviction of a key under the cache's prefix (by any
   * client, {@code SET}/{@code DEL} from outside the cache included), with no batching. Needs Redis
   * 6 or later and a client that speaks RESP3 (Lettuce's default; not
   * {@code ClientOptions.protocolVersion(RESP2)}). Costs: every write under the prefix, loads'
   * fills included, is sent to every instance; a reconnect clears L1.
   */
  CLIENT_TRACKING
}
