package io.giftkit.boot.mq;

import io.giftkit.mq.GiftkitConsumer;

/**
 * Tunes every consumer {@link GiftkitConsumers} makes, beyond what {@code giftkit.mq.*} covers (e.g.
 * a lag listener or a security setting for all). Customizer beans are applied in
 * {@link org.springframework.core.Ordered order} after the properties and before the code that
 * creates the consumer.
 */
@FunctionalInterface
public interface GiftkitConsumerCustomizer {

  /**
   * @param name the consumer's name
   * @param builder the builder, holding the properties' values
   */
  void customize(String name, GiftkitConsumer.Builder<?, ?> builder);
}
