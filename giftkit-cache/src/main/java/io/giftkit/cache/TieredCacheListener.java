package io.giftkit.cache;

/**
 * Hears a {@link TieredCache}'s Redis outages. Called on the thread that noticed; a listener that
 * throws is logged and ignored.
 */
public interface TieredCacheListener {

  /**
   * Redis stopped answering (a command failed or exceeded its timeout); reads go on from L1 and
   * the loader.
   *
   * @param cacheName the cache
   * @param cause the failure that revealed it
   */
  default void onRedisDown(String cacheName, Throwable cause) {}

  /**
   * Redis answers again.
   *
   * @param cacheName the cache
   */
  default void onRedisUp(String cacheName) {}
}
