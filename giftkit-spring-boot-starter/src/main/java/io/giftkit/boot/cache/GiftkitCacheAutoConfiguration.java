package io.giftkit.boot.cache;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.cache.TieredCache;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tiered caches ({@link GiftkitCaches}, from {@code giftkit.cache.*}) on a Lettuce client made from
 * a {@link GiftkitRedisConnection}: {@code giftkit.cache.redis-url} when set, else Boot's Redis
 * settings (with {@code spring-boot-data-redis}: its connection details, so Sentinel, Cluster, ACL
 * users and SSL bundles are honoured; without it: {@code spring.data.redis.url}, host, port,
 * credentials, database, {@code ssl.enabled}); with Jackson 3,
 * {@link GiftkitCodecs} on Boot's {@code JsonMapper}; with Micrometer, their metrics; with the
 * endpoint, their stats and hot keys. No connection is opened until a cache is made.
 */
@AutoConfiguration(after = GiftkitAutoConfiguration.class,
    afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnClass({TieredCache.class, RedisClient.class})
@EnableConfigurationProperties(GiftkitCacheProperties.class)
public final class GiftkitCacheAutoConfiguration {

  /**
   * Boot's Redis settings, when Boot's Redis support is present and has made its connection details:
   * standalone, Sentinel or Cluster, username, password, SSL (bundles too), timeouts. Replaced by
   * {@code giftkit.cache.redis-url} when that is set.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails")
  @ConditionalOnBean(type = {"org.springframework.boot.data.redis.autoconfigure.DataRedisProperties",
      "org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails"})
  static class BootRedisConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitRedisConnection giftkitRedisConnection(GiftkitCacheProperties properties,
        org.springframework.boot.data.redis.autoconfigure.DataRedisProperties redis,
        org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails details) {
      if (properties.getRedisUrl() != null && !properties.getRedisUrl().isBlank()) {
        return GiftkitRedisConnection.of(parseUrl(properties.getRedisUrl(), "giftkit.cache.redis-url"), null);
      }
      return BootRedisConnection.of(redis, details);
    }
  }

  /** Without Boot's Redis support: {@link #redisUri}. */
  @Bean
  @ConditionalOnMissingBean
  GiftkitRedisConnection giftkitRedisConnection(GiftkitCacheProperties properties, Environment environment) {
    return GiftkitRedisConnection.of(redisUri(properties, environment), null);
  }

  @Bean
  @ConditionalOnMissingBean
  GiftkitCaches giftkitCaches(GiftkitCacheProperties properties, GiftkitRedisConnection connection,
      ObjectProvider<TieredCacheCustomizer> customizers) {
    return new GiftkitCaches(properties, connection.createClient(), customizers.orderedStream().toList());
  }

  /** {@code giftkit.cache.redis-url}, else {@code spring.data.redis.url}, else its host, port and credentials. */
  static RedisURI redisUri(GiftkitCacheProperties properties, Environment environment) {
    Binder binder = Binder.get(environment);
    String url = properties.getRedisUrl();
    String property = "giftkit.cache.redis-url";
    if (url == null || url.isBlank()) {
      url = binder.bind("spring.data.redis.url", String.class).orElse(null);
      property = "spring.data.redis.url";
    }
    if (url != null && !url.isBlank()) {
      return parseUrl(url, property);
    }
    RedisURI.Builder b = RedisURI.builder()
        .withHost(binder.bind("spring.data.redis.host", String.class).orElse("localhost"))
        .withPort(binder.bind("spring.data.redis.port", Integer.class).orElse(6379))
        .withDatabase(binder.bind("spring.data.redis.database", Integer.class).orElse(0))
        .withSsl(binder.bind("spring.data.redis.ssl.enabled", Boolean.class).orElse(false));
    String password = binder.bind("spring.data.redis.password", String.class).orElse(null);
    if (password != null) {
      String username = binder.bind("spring.data.redis.username", String.class).orElse(null);
      if (username != null) {
        b.withAuthentication(username, password);
      } else {
        b.withPassword(password.toCharArray());
      }
    }
    return b.build();
  }

  private static RedisURI parseUrl(String url, String property) {
    try {
      return RedisURI.create(url);
    } catch (IllegalArgumentException e) {
      // Never echo the URL itself: it may carry a password.
      throw GiftkitPropertyException.invalid(property, "must be a redis:// or rediss:// URL",
          "a value not shown (it may hold a password)");
    }
  }

  @Bean
  GiftkitEndpointContributor giftkitCacheEndpointContributor(GiftkitCaches caches) {
    return new GiftkitEndpointContributor() {
      @Override
      public String key() {
        return "caches";
      }

      @Override
      public Object describe() {
        return caches.describe();
      }
    };
  }

  /** {@link GiftkitCodecs} on Boot's {@code JsonMapper} (or GiftKit's default), when Jackson 3 is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(JsonMapper.class)
  static class CodecConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitCodecs giftkitCodecs(ObjectProvider<JsonMapper> mapper) {
      JsonMapper application = mapper.getIfAvailable();
      return application != null ? GiftkitCodecs.of(application) : GiftkitCodecs.ofDefaults();
    }
  }

  /** Health of the caches' Redis, when Actuator's health is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(org.springframework.boot.health.contributor.HealthIndicator.class)
  static class CacheHealthConfiguration {

    /**
     * {@code /actuator/health/giftkitCaches}: always UP (reads fall through to the loader while Redis
     * is down, so restarting the instance would not help), with {@code redisDown} per cache as detail.
     */
    @Bean
    @ConditionalOnMissingBean(name = "giftkitCachesHealthIndicator")
    org.springframework.boot.health.contributor.HealthIndicator giftkitCachesHealthIndicator(GiftkitCaches caches) {
      return () -> {
        org.springframework.boot.health.contributor.Health.Builder h =
            new org.springframework.boot.health.contributor.Health.Builder().up();
        caches.all().forEach(e -> h.withDetail(e.name(), java.util.Map.of("redisDown", e.cache().isRedisDown())));
        return h.build();
      };
    }
  }

  /** Metrics, when Micrometer is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class CacheMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitCacheMetrics giftkitCacheMetrics(GiftkitCaches caches) {
      return new GiftkitCacheMetrics(caches);
    }
  }
}
