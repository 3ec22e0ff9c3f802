package io.giftkit.boot.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/** {@code giftkit.cache.*}: tiered caches (Caffeine, then Redis, then the loader). */
@ConfigurationProperties("giftkit.cache")
public class GiftkitCacheProperties {

  /**
   * The Redis server, e.g. redis://127.0.0.1:6379/0; when set it replaces Boot's settings. Default:
   * Boot's spring.data.redis.* (with spring-boot-data-redis: its connection details, so Sentinel,
   * Cluster, username, SSL bundles and timeouts apply; without it: url, or host, port, username,
   * password, database and ssl.enabled).
   */
  private String redisUrl;

  /**
   * The pub/sub channel invalidations go through; instances sharing caches must share it. Default: per
   * cache. Not used by caches whose invalidation-mode is CLIENT_TRACKING.
   */
  private String invalidationChannel;

  /** Settings every cache starts from. */
  @NestedConfigurationProperty
  private CacheSettings defaults = new CacheSettings();

  /** Per-cache settings, by cache name. */
  private Map<String, CacheSettings> caches = new LinkedHashMap<>();

  public String getRedisUrl() {
    return redisUrl;
  }

  public void setRedisUrl(String redisUrl) {
    this.redisUrl = redisUrl;
  }

  public String getInvalidationChannel() {
    return invalidationChannel;
  }

  public void setInvalidationChannel(String invalidationChannel) {
    this.invalidationChannel = invalidationChannel;
  }

  public CacheSettings getDefaults() {
    return defaults;
  }

  public void setDefaults(CacheSettings defaults) {
    this.defaults = defaults;
  }

  public Map<String, CacheSettings> getCaches() {
    return caches;
  }

  public void setCaches(Map<String, CacheSettings> caches) {
    this.caches = caches;
  }
}
