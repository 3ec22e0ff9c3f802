package io.giftkit.boot;

import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The local {@link Site}, from {@code giftkit.site} (or the {@code GIFTKIT_SITE} environment variable,
 * which Spring's relaxed binding maps to it). No site bean is defined when neither is set.
 */
@AutoConfiguration
@ConditionalOnClass(Site.class)
@EnableConfigurationProperties(GiftkitProperties.class)
public final class GiftkitAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty("giftkit.site")
  Site giftkitSite(GiftkitProperties properties) {
    try {
      return Site.of(properties.getSite());
    } catch (InvalidConfigException e) {
      throw new GiftkitPropertyException("giftkit.site", e.rule(), e.value(), e);
    }
  }
}
