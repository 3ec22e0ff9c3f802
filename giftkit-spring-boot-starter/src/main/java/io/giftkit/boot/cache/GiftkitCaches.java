package io.giftkit.boot.cache;

import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.cache.HotKeyDetector;
import io.giftkit.cache.InvalidationMode;
import io.giftkit.cache.TieredCache;
import io.giftkit.core.Checks;
import io.giftkit.core.InvalidConfigException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.RedisClusterClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.springframework.beans.factory.DisposableBean;

/**
 * Makes {@link TieredCache}s from {@code giftkit.cache.*} on one Lettuce client (a
 * {@link RedisClient}, or a {@link RedisClusterClient} for a Redis Cluster; see
 * {@link GiftkitRedisConnection}), keeps them for metrics and
 * the endpoint, and closes them and the client with the application.
 *
 * <pre>{@code
 * @Bean
 * TieredCache<Long, String> rooms(GiftkitCaches caches, RoomDao dao) {
 *   return caches.create("rooms", b -> b.keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(dao::loadJson));
 * }
 * }</pre>
 *
 * <p>Properties are applied before {@code customize}, so code can override them. Under
 * {@code l1-policy: hot-only} a {@link HotKeyDetector} is made from {@code hot-share} (default 0.01),
 * {@code hot-count} or {@code hot-window}. Thread-safe.
 */
public final class GiftkitCaches implements DisposableBean, io.giftkit.boot.GiftkitHotKeys {

  /** A cache and its detector (null unless HOT_ONLY). */
  public record Entry(String name, TieredCache<?, ?> cache, HotKeyDetector<?> detector) {}

  private final GiftkitCacheProperties properties;
  private final AbstractRedisClient client;
  private final List<TieredCacheCustomizer> customizers;
  private final List<Entry> entries = new CopyOnWriteArrayList<>();
  private final List<Consumer<Entry>> creationListeners = new CopyOnWriteArrayList<>();

  /**
   * @param properties {@code giftkit.cache.*}
   * @param client the Lettuce client the caches use, a {@link RedisClient} or a
   *     {@link RedisClusterClient} (shut down with this factory)
   * @param customizers applied to every builder after the properties, in order
   * @throws IllegalArgumentException if the client is of another kind
   */
  public GiftkitCaches(GiftkitCacheProperties properties, AbstractRedisClient client,
      List<TieredCacheCustomizer> customizers) {
    if (!(client instanceof RedisClient) && !(client instanceof RedisClusterClient)) {
      throw new IllegalArgumentException("client must be a RedisClient or a RedisClusterClient, but was "
          + (client == null ? null : client.getClass().getName()));
    }
    this.properties = properties;
    this.client = client;
    this.customizers = List.copyOf(customizers);
  }

  /**
   * Builds a cache from {@code giftkit.cache.caches.<name>} over {@code giftkit.cache.defaults}; the
   * customizer adds codecs and the loader.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name the cache's name (its properties' key, its Redis key prefix, its metrics' name tag)
   * @param customize adds keys, values, loader, and any override
   * @return the cache
   * @throws GiftkitPropertyException naming the property when a setting is invalid
   */
  public <K, V> TieredCache<K, V> create(String name, UnaryOperator<TieredCache.Builder<K, V>> customize) {
    String prefix = "giftkit.cache.caches." + name;
    CacheSettings own = properties.getCaches().getOrDefault(name, new CacheSettings());
    CacheSettings d = properties.getDefaults();
    TieredCache.Builder<K, V> b = client instanceof RedisClusterClient cluster ? TieredCache.builder(name, cluster)
        : TieredCache.builder(name, (RedisClient) client);
    HotKeyDetector<K> detector = null;
    try {
      Long l1Size = pick(own.getL1MaxSize(), d.getL1MaxSize());
      Duration l1Ttl = pick(own.getL1Ttl(), d.getL1Ttl());
      if (l1Size != null || l1Ttl != null) {
        b.l1(l1Size == null ? TieredCache.DEFAULT_L1_MAX_SIZE : l1Size, l1Ttl == null ? TieredCache.DEFAULT_L1_TTL : l1Ttl);
      }
      apply(pick(own.getL2Ttl(), d.getL2Ttl()), b::l2Ttl);
      apply(pick(own.getNegativeTtl(), d.getNegativeTtl()), b::negativeTtl);
      apply(pick(own.getTtlJitter(), d.getTtlJitter()), b::ttlJitter);
      apply(pick(own.getRefreshAhead(), d.getRefreshAhead()), b::refreshAhead);
      apply(pick(own.getRedisTimeout(), d.getRedisTimeout()), b::redisTimeout);
      apply(pick(own.getRedisRetryAfter(), d.getRedisRetryAfter()), b::redisRetryAfter);
      InvalidationMode mode = pick(own.getInvalidationMode(), d.getInvalidationMode());
      apply(mode, b::invalidation);
      if (mode != InvalidationMode.CLIENT_TRACKING) {
        apply(properties.getInvalidationChannel(), b::invalidationChannel); // nothing is published under tracking
      }
      TieredCache.L1Policy policy = pick(own.getL1Policy(), d.getL1Policy());
      if (policy == TieredCache.L1Policy.HOT_ONLY) {
        detector = detector(own, d);
        b.l1Policy(policy, detector);
      }
      for (TieredCacheCustomizer c : customizers) {
        c.customize(name, b);
      }
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
    TieredCache<K, V> cache;
    try {
      cache = customize.apply(b).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
    Entry entry = new Entry(name, cache, detector);
    entries.add(entry);
    creationListeners.forEach(l -> l.accept(entry));
    return cache;
  }

  private static <K> HotKeyDetector<K> detector(CacheSettings own, CacheSettings d) {
    HotKeyDetector.Builder<K> hb = HotKeyDetector.builder();
    Long count = pick(own.getHotCount(), d.getHotCount());
    Double share = pick(own.getHotShare(), d.getHotShare());
    if (count != null) {
      hb.hotWhenCountAtLeast(count);
    } else {
      hb.hotWhenShareAtLeast(share == null ? 0.01 : share);
    }
    Duration window = pick(own.getHotWindow(), d.getHotWindow());
    if (window != null) {
      try {
        hb.window(window, 10);
      } catch (InvalidConfigException e) {
        throw Checks.invalid("hotWindow", e.rule(), window);
      }
    }
    return hb.build();
  }

  private static <T> T pick(T own, T defaults) {
    return own != null ? own : defaults;
  }

  private static <T> void apply(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  /** @param listener hears every cache made from now on (metrics bind this way) */
  public void onCreate(Consumer<Entry> listener) {
    creationListeners.add(listener);
  }

  /** @return whether the caches use a Redis Cluster */
  public boolean usesCluster() {
    return client instanceof RedisClusterClient;
  }

  /** @return every cache made here */
  public List<Entry> all() {
    return List.copyOf(entries);
  }

  /** @return hot keys per cache (HOT_ONLY caches), for the endpoint */
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("stats", e.cache().stats());
      m.put("redisDown", e.cache().isRedisDown());
      m.put("invalidation", e.cache().invalidationMode());
      if (e.detector() != null) {
        m.put("hotKeys", e.detector().hotKeys().stream()
            .map(h -> Map.of("key", String.valueOf(h.key()), "estimatedCount", h.estimatedCount(), "ratePerSecond", h.estimatedRatePerSecond())).toList());
      }
      out.put(e.name(), m);
    }
    return out;
  }

  @Override
  public boolean clearHotKey(String cache, String key) {
    for (Entry e : entries) {
      if (e.name().equals(cache) && e.detector() != null) {
        return clear(e.detector(), key);
      }
    }
    return false;
  }

  private static <K> boolean clear(HotKeyDetector<K> detector, String text) {
    for (io.giftkit.cache.HotKey<K> h : detector.hotKeys()) {
      if (String.valueOf(h.key()).equals(text)) {
        return detector.clear(h.key());
      }
    }
    return false;
  }

  @Override
  public void destroy() {
    entries.forEach(e -> e.cache().close());
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
