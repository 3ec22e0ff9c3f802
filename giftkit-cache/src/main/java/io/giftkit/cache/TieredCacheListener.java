package io.giftkit.cache;

/**
 * Hears a {@link TieredCache}'s Redis outages and the invalidations other instances send it. Called
 * on the thread that noticed; a listener that throws is logged and ignored.
 */
public interface TieredCacheListener {

  /**
   * Redis stopped answering (a command failed or exceeded its timeout, or the cache could not
   * connect when it was built); reads go on from L1 and the loader.
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

  /**
   * Another instance's invalidation (or {@code put}) of a key reached this instance: its L1 copy is
   * gone and no load that started before writes it back. Under
   * {@link InvalidationMode#CLIENT_TRACKING}: Redis said another connection wrote, deleted, expired
   * or evicted the key (another instance's fill too), and every key of the same message is already
   * gone. Called on Lettuce's I/O thread (the pub/sub or the tracked connection's); keep it short.
   *
   * @param cacheName the cache
   * @param key the key as its {@link KeyCodec} formats it
   */
  default void onInvalidationReceived(String cacheName, String key) {}
}
