package io.giftkit.boot.cache;

import io.giftkit.cache.CacheStats;
import io.giftkit.cache.TieredCache;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToLongFunction;

/**
 * Micrometer meters for every cache made by {@link GiftkitCaches}, tagged {@code name}:
 *
 * <ul>
 *   <li>{@code giftkit.cache.gets} (counter, tags {@code tier}: l1, l2; {@code result}: hit, miss);
 *   <li>{@code giftkit.cache.loads} (counter, tag {@code result}: success, failure),
 *       {@code giftkit.cache.coalesced} (reads that waited for another's load),
 *       {@code giftkit.cache.load.lock.waits};
 *   <li>{@code giftkit.cache.promotions}, {@code giftkit.cache.demotions} (L1 under HOT_ONLY),
 *       {@code giftkit.cache.hot.keys} (gauge);
 *   <li>{@code giftkit.cache.invalidations} (counter, tag {@code direction}: sent, received),
 *       {@code giftkit.cache.l1.clears} (all of L1 dropped: reconnects, FLUSHALL under tracking);
 *   <li>{@code giftkit.cache.redis.errors}, {@code giftkit.cache.decode.failures} (counters),
 *       {@code giftkit.cache.redis.down} (gauge, 1 while Redis is skipped).
 * </ul>
 */
public final class GiftkitCacheMetrics implements MeterBinder {

  private final GiftkitCaches caches;

  /** @param caches the caches' factory (caches made later are measured too) */
  public GiftkitCacheMetrics(GiftkitCaches caches) {
    this.caches = caches;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    caches.all().forEach(e -> bind(registry, e));
    caches.onCreate(e -> bind(registry, e));
  }

  private static void bind(MeterRegistry registry, GiftkitCaches.Entry e) {
    TieredCache<?, ?> c = e.cache();
    Tags tags = Tags.of("name", e.name());
    counter(registry, "giftkit.cache.gets", c, tags.and("tier", "l1", "result", "hit"), CacheStats::l1Hits);
    counter(registry, "giftkit.cache.gets", c, tags.and("tier", "l1", "result", "miss"), CacheStats::l1Misses);
    counter(registry, "giftkit.cache.gets", c, tags.and("tier", "l2", "result", "hit"), CacheStats::l2Hits);
    counter(registry, "giftkit.cache.gets", c, tags.and("tier", "l2", "result", "miss"), CacheStats::l2Misses);
    counter(registry, "giftkit.cache.loads", c, tags.and("result", "success"), s -> s.loads() - s.loadFailures());
    counter(registry, "giftkit.cache.loads", c, tags.and("result", "failure"), CacheStats::loadFailures);
    counter(registry, "giftkit.cache.coalesced", c, tags, CacheStats::coalesced);
    counter(registry, "giftkit.cache.load.lock.waits", c, tags, CacheStats::loadLockWaits);
    counter(registry, "giftkit.cache.promotions", c, tags, CacheStats::promotions);
    counter(registry, "giftkit.cache.demotions", c, tags, CacheStats::demotions);
    counter(registry, "giftkit.cache.invalidations", c, tags.and("direction", "sent"), CacheStats::invalidationsSent);
    counter(registry, "giftkit.cache.invalidations", c, tags.and("direction", "received"),
        CacheStats::invalidationsReceived);
    counter(registry, "giftkit.cache.l1.clears", c, tags, CacheStats::l1Clears);
    counter(registry, "giftkit.cache.redis.errors", c, tags, CacheStats::redisErrors);
    counter(registry, "giftkit.cache.decode.failures", c, tags, CacheStats::decodeFailures);
    counter(registry, "giftkit.cache.redis.connect.failures", c, tags, CacheStats::redisConnectFailures);
    counter(registry, "giftkit.cache.invalidations.queued", c, tags, CacheStats::invalidationsQueued);
    counter(registry, "giftkit.cache.invalidations.dropped", c, tags, CacheStats::invalidationsDropped);
    counter(registry, "giftkit.cache.stale.load.writes.skipped", c, tags, CacheStats::staleLoadWritesSkipped);
    Gauge.builder("giftkit.cache.redis.down", c, x -> x.isRedisDown() ? 1 : 0).tags(tags)
        .description("1 while Redis is skipped after a failure, or not connected yet").register(registry);
    Gauge.builder("giftkit.cache.invalidations.pending", c, TieredCache::pendingInvalidations).tags(tags)
        .description("keys whose Redis invalidation waits for Redis to answer").register(registry);
    if (e.detector() != null) {
      Gauge.builder("giftkit.cache.hot.keys", e.detector(), d -> d.hotKeys().size()).tags(tags)
          .description("keys the detector counts as hot now").register(registry);
    }
  }

  private static void counter(MeterRegistry registry, String name, TieredCache<?, ?> cache, Tags tags,
      ToLongFunction<CacheStats> f) {
    FunctionCounter.builder(name, cache, c -> f.applyAsLong(c.stats())).tags(tags).register(registry);
  }
}
