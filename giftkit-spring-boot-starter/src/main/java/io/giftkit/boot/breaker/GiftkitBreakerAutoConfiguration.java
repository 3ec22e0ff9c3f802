package io.giftkit.boot.breaker;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Ticker;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A {@link BreakerRegistry} configured from {@code giftkit.breaker.*} and every
 * {@link BreakerConfigCustomizer} bean, and (with Micrometer) its metrics. Every setting is checked
 * at start-up: a bad value fails the start naming the property.
 */
@AutoConfiguration(after = GiftkitAutoConfiguration.class)
@ConditionalOnClass(BreakerRegistry.class)
@EnableConfigurationProperties(GiftkitBreakerProperties.class)
public final class GiftkitBreakerAutoConfiguration {

  static final String PREFIX = "giftkit.breaker";

  @Bean
  @ConditionalOnMissingBean
  BreakerRegistry giftkitBreakerRegistry(
      GiftkitBreakerProperties properties, ObjectProvider<BreakerConfigCustomizer> customizerBeans) {
    List<BreakerConfigCustomizer> customizers = customizerBeans.orderedStream().toList();
    BreakerConfig base = BreakerConfig.ofDefaults();
    String defaultsPrefix = PREFIX + ".defaults";
    BreakerConfig.Builder defaultsBuilder = properties.getDefaults().applyTo(base.toBuilder(), base, defaultsPrefix);
    customizers.forEach(c -> c.customize(null, defaultsBuilder));
    BreakerConfig defaults = build(defaultsPrefix, defaultsBuilder::build);

    BreakerRegistry registry = build(PREFIX,
        () -> BreakerRegistry.of(defaults, properties.getMaxBreakers(), Ticker.system()));
    properties.getInstances().forEach((name, settings) -> {
      String prefix = PREFIX + ".instances." + name;
      build(prefix, () -> registry.configure(name, builder -> {
        settings.applyTo(builder, defaults, prefix);
        customizers.forEach(c -> c.customize(name, builder));
        return builder;
      }));
    });
    return registry;
  }

  /** The breakers' part of the {@code giftkit} endpoint (read, and forcing a breaker when enabled). */
  @Bean
  @ConditionalOnMissingBean
  BreakerEndpointPart giftkitBreakerEndpointPart(BreakerRegistry registry) {
    return new BreakerEndpointPart(registry);
  }

  /** Runs a build step, restating a broken rule in terms of the property under {@code prefix}. */
  private static <T> T build(String prefix, java.util.function.Supplier<T> step) {
    try {
      return step.get();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
  }

  /** Breaker metrics, when Micrometer is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class BreakerMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitBreakerMetrics giftkitBreakerMetrics(BreakerRegistry registry) {
      return new GiftkitBreakerMetrics(registry);
    }
  }
}
