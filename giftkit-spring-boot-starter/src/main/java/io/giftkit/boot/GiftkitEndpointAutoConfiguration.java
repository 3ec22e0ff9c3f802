package io.giftkit.boot;

import io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.core.Site;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/** The {@code giftkit} Actuator endpoint, when Actuator is present and the endpoint is exposed. */
@AutoConfiguration(after = {GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class},
    afterName = {"io.giftkit.boot.mq.GiftkitMqAutoConfiguration", "io.giftkit.boot.cache.GiftkitCacheAutoConfiguration",
        "io.giftkit.boot.shard.GiftkitShardAutoConfiguration"})
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
public final class GiftkitEndpointAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnAvailableEndpoint
  GiftkitEndpoint giftkitEndpoint(ObjectProvider<Site> site, ObjectProvider<BreakerRegistry> breakers,
      ObjectProvider<GiftkitEndpointContributor> contributors, ObjectProvider<GiftkitHotKeys> hotKeys) {
    return new GiftkitEndpoint(site.getIfAvailable(), breakers.getIfAvailable(), contributors.orderedStream().toList(),
        hotKeys.getIfAvailable());
  }
}
