package io.giftkit.boot.cache;

import io.giftkit.cache.TieredCache;

/**
 * Tunes every cache {@link GiftkitCaches} makes, beyond what {@code giftkit.cache.*} covers (e.g. a
 * listener reporting Redis outages). Customizer beans are applied in
 * {@link org.springframework.core.Ordered order} after the properties and before the code that
 * creates the cache.
 */
@FunctionalInterface
public interface TieredCacheCustomizer {

  /**
   * @param name the cache's name
   * @param builder the builder, holding the properties' values
   */
  void customize(String name, TieredCache.Builder<?, ?> builder);
}
