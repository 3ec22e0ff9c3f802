package io.giftkit.boot;

import io.giftkit.core.Site;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * The {@code giftkit} Actuator endpoint, when Actuator is present and the endpoint is exposed:
 * read-only unless {@code giftkit.endpoint.write-operations-enabled=true}. It takes every module's
 * part through {@link GiftkitEndpointContributor} and {@link GiftkitBreakerControl} beans and names
 * no module's types, so a module left out (its jar excluded) leaves the endpoint working.
 */
@AutoConfiguration(after = GiftkitAutoConfiguration.class,
    afterName = {"io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration", "io.giftkit.boot.mq.GiftkitMqAutoConfiguration",
        "io.giftkit.boot.cache.GiftkitCacheAutoConfiguration", "io.giftkit.boot.shard.GiftkitShardAutoConfiguration",
        "io.giftkit.boot.coord.GiftkitCoordAutoConfiguration"})
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
public final class GiftkitEndpointAutoConfiguration {

  /** The property that turns the write operations on. */
  static final String WRITES = "giftkit.endpoint.write-operations-enabled";

  @Bean
  @ConditionalOnMissingBean(GiftkitEndpoint.class)
  @ConditionalOnAvailableEndpoint
  @ConditionalOnProperty(name = WRITES, havingValue = "false", matchIfMissing = true)
  GiftkitEndpoint giftkitEndpoint(ObjectProvider<Site> site, ObjectProvider<GiftkitEndpointContributor> contributors,
      ObjectProvider<GiftkitBreakerControl> breakers) {
    return new GiftkitEndpoint(site.getIfAvailable(), contributors.orderedStream().toList(), breakers.getIfAvailable());
  }

  @Bean
  @ConditionalOnMissingBean(GiftkitEndpoint.class)
  @ConditionalOnAvailableEndpoint
  @ConditionalOnProperty(name = WRITES, havingValue = "true")
  GiftkitWritableEndpoint giftkitWritableEndpoint(ObjectProvider<Site> site,
      ObjectProvider<GiftkitEndpointContributor> contributors, ObjectProvider<GiftkitBreakerControl> breakers,
      ObjectProvider<GiftkitHotKeys> hotKeys, ObjectProvider<GiftkitSlowSqlBreakers> slowSql) {
    return new GiftkitWritableEndpoint(site.getIfAvailable(), contributors.orderedStream().toList(),
        breakers.getIfAvailable(), hotKeys.getIfAvailable(), slowSql.getIfAvailable());
  }
}
