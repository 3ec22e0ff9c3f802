package io.giftkit.boot.coord;

import io.giftkit.boot.cache.GiftkitCaches;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.giftkit.coord.Consistency;
import io.giftkit.coord.ConsistentKv;
import io.giftkit.coord.KvEntry;
import io.giftkit.coord.KvEvent;
import io.giftkit.coord.KvWatch;
import io.giftkit.coord.KvWatchListener;
import io.giftkit.core.Checks;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The etcd key-value tier ({@link ConsistentKv}) as the layer under Redis in a {@link TieredCache}:
 * L1 (Caffeine), then Redis, then etcd.
 *
 * <p>Configured caches ({@code giftkit.coord.kv-caches.<name>}) are {@code TieredCache<String, String>}s
 * made through {@link GiftkitCaches} (so {@code giftkit.cache.caches.<name>.*} sets their L1 and Redis
 * TTLs, and they get the cache meters and endpoint): {@code kvTier.cache("room-owner").get("42")} reads
 * L1, then Redis, then etcd key {@code room-owner/42} with the configured consistency. With
 * {@code invalidate-on-change} (the default) a watch on the prefix invalidates a key in the cache when
 * it changes or is deleted in etcd, so a change is served within one watch delivery instead of at the
 * end of the TTLs (after a compaction the watch re-reads the prefix and invalidates every key that
 * exists; a key deleted during the gap stays cached until its TTL).
 *
 * <p>For a typed cache, {@link #loader} makes the loader from the cache's own codecs:
 *
 * <pre>{@code
 * caches.create("rooms", b -> b.keys(KeyCodec.longs()).values(codecs.json(Room.class))
 *     .loader(kvTier.loader("rooms/", Consistency.LINEARIZABLE, KeyCodec.longs(), codecs.json(Room.class))));
 * }</pre>
 *
 * etcd holds UTF-8 text, so the value codec's bytes must be UTF-8 text (JSON, {@code utf8()}, numbers).
 */
public final class GiftkitKvTier implements AutoCloseable {

  private final ConsistentKv kv;
  private final Map<String, TieredCache<String, String>> caches = new ConcurrentHashMap<>();
  private final List<KvWatch> watches = new CopyOnWriteArrayList<>();

  GiftkitKvTier(ConsistentKv kv) {
    this.kv = kv;
  }

  /**
   * A loader reading the key-value tier: key {@code k} is read at {@code keyPrefix + keys.format(k)} and
   * decoded with {@code values}; an absent key loads as null (absent, negatively cached).
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param keyPrefix where the keys live, below the namespace; not null
   * @param consistency how to read
   * @param keys the cache's key codec
   * @param values the cache's value codec
   * @return the loader; it throws what {@link ConsistentKv#get} throws when etcd does not answer
   */
  public <K, V> Function<K, V> loader(String keyPrefix, Consistency consistency, KeyCodec<K> keys,
      ValueCodec<V> values) {
    Checks.requireNonNull("keyPrefix", keyPrefix);
    Checks.requireNonNull("consistency", consistency);
    Checks.requireNonNull("keys", keys);
    Checks.requireNonNull("values", values);
    return key -> kv.get(keyPrefix + keys.format(key), consistency).entry()
        .map(e -> values.decode(e.value().getBytes(StandardCharsets.UTF_8))).orElse(null);
  }

  /**
   * @param name a cache under {@code giftkit.coord.kv-caches}
   * @return the cache
   * @throws IllegalArgumentException naming the configured caches if there is none of that name
   */
  public TieredCache<String, String> cache(String name) {
    TieredCache<String, String> c = caches.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no cache '" + name + "' under giftkit.coord.kv-caches; configured: "
          + caches.keySet());
    }
    return c;
  }

  /** @return the configured caches by name */
  public Map<String, TieredCache<String, String>> caches() {
    return Map.copyOf(caches);
  }

  void create(GiftkitCaches factory, String name, String keyPrefix, Consistency consistency,
      boolean invalidateOnChange) {
    TieredCache<String, String> cache = factory.create(name, b -> b.keys(KeyCodec.strings())
        .values(ValueCodec.utf8()).loader(loader(keyPrefix, consistency, KeyCodec.strings(), ValueCodec.utf8())));
    if (invalidateOnChange) {
      // started before the cache is handed out: a change after this point is never missed
      watches.add(kv.watchPrefix(keyPrefix, 0, new KvWatchListener() {
        @Override
        public void onEvent(KvEvent event) {
          cache.invalidate(event.key().substring(keyPrefix.length()));
        }

        @Override
        public void onCompacted(long compactRevision, List<KvEntry> current, long revision) {
          current.forEach(e -> cache.invalidate(e.key().substring(keyPrefix.length())));
        }
      }));
    }
    caches.put(name, cache);
  }

  /** Stops the watches (the caches close with {@link GiftkitCaches}). */
  @Override
  public void close() {
    watches.forEach(KvWatch::close);
  }
}
