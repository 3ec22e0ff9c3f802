package io.giftkit.boot.shard;

import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;

/**
 * Tunes the shard router and node pools beyond what {@code giftkit.shard.*} covers. Customizer beans
 * are applied in {@link org.springframework.core.Ordered order} after the properties.
 */
public interface ShardCustomizer {

  /** @param builder the router's builder, holding the properties' values */
  default void customize(ShardRouter.Builder builder) {}

  /** @param builder the node pools' builder, holding the properties' values */
  default void customize(ShardDataSources.Builder builder) {}
}
