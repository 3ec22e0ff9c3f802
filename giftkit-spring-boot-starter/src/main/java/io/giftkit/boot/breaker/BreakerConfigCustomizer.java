package io.giftkit.boot.breaker;

import io.giftkit.breaker.BreakerConfig;

/**
 * Tunes breaker configurations beyond what {@code giftkit.breaker.*} covers. Every customizer bean
 * is applied, in {@link org.springframework.core.Ordered order}, after the properties: to the
 * defaults (with a null name) and to each configured instance.
 */
@FunctionalInterface
public interface BreakerConfigCustomizer {

  /**
   * Customizes one configuration.
   *
   * @param breakerName the instance's name, or {@code null} for the defaults
   * @param builder the builder, holding the properties' values
   */
  void customize(String breakerName, BreakerConfig.Builder builder);
}
