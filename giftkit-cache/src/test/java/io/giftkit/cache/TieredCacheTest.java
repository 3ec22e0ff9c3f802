package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.cache.TieredCache.L1Policy;
import io.giftkit.core.FakeTicker;
import io.giftkit.testing.RedisExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against a real Redis server. */
class TieredCacheTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Map<Long, AtomicInteger> loaded = new ConcurrentHashMap<>();
  private final String prefix = REDIS.key("rooms-" + System.nanoTime());

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private Function<Long, String> loader() {
    return id -> {
      loaded.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      return id < 0 ? null : "room-" + id;
    };
  }

  private TieredCache.Builder<Long, String> builder() {
    return TieredCache.<Long, String>builder("rooms", REDIS.client())
        .keyPrefix(prefix).invalidationChannel(prefix + ":chan")
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(loader())
        .redisTimeout(Duration.ofSeconds(2)); // a busy CI machine is not a Redis outage
  }

  private TieredCache<Long, String> build(TieredCache.Builder<Long, String> b) {
    TieredCache<Long, String> cache = b.build();
    toClose.add(cache);
    return cache;
  }

  private int loads(long id) {
    AtomicInteger n = loaded.get(id);
    return n == null ? 0 : n.get();
  }

  @Test
  void readsGoThroughL1ThenRedisThenTheLoader() {
    TieredCache<Long, String> a = build(builder());
    assertThat(a.get(42L)).isEqualTo("room-42");
    assertThat(a.get(42L)).isEqualTo("room-42");
    assertThat(loads(42)).isEqualTo(1);
    assertThat(REDIS.commands().exists(prefix + ":42")).isEqualTo(1);

    TieredCache<Long, String> b = build(builder());
    assertThat(b.get(42L)).isEqualTo("room-42");
    assertThat(loads(42)).as("the second instance read Redis, not the loader").isEqualTo(1);
    CacheStats s = b.stats();
    assertThat(s.l2Hits()).isEqualTo(1);
    assertThat(s.loads()).isZero();
    assertThat(a.stats().l1Hits()).isEqualTo(1);
  }

  /** 64 threads miss one key at once: one Redis read, one load. */
  @Test
  void aStampedeMakesOneRedisReadAndOneLoad() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    TieredCache<Long, String> cache = build(builder().loader(id -> {
      loaded.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      try {
        hold.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "room-" + id;
    }));
    int threads = 64;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    toClose.add(pool::shutdownNow);
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      results.add(pool.submit(() -> cache.get(7L)));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> cache.stats().coalesced() == threads - 1);
    hold.countDown();
    for (Future<String> f : results) {
      assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("room-7");
    }
    CacheStats s = cache.stats();
    assertThat(loads(7)).isEqualTo(1);
    assertThat(s.l2Hits() + s.l2Misses()).as("Redis reads").isEqualTo(1);
    assertThat(s.l1Misses()).isEqualTo(threads);
  }

  @Test
  void absentValuesAreCachedBriefly() {
    FakeTicker ticker = new FakeTicker();
    TieredCache<Long, String> cache = build(builder().ticker(ticker).negativeTtl(Duration.ofSeconds(2)));
    assertThat(cache.get(-1L)).isNull();
    assertThat(cache.get(-1L)).isNull();
    assertThat(loads(-1)).isEqualTo(1);
    ticker.advance(Duration.ofSeconds(3));
    TieredCache<Long, String> other = build(builder());
    assertThat(other.get(-1L)).as("Redis remembers the absence too").isNull();
    assertThat(loads(-1)).isEqualTo(1);
  }

  @Test
  void onlyHotKeysLiveInL1AndCooledOnesLeave() {
    FakeTicker ticker = new FakeTicker();
    HotKeyDetector<Long> detector = HotKeyDetector.<Long>builder().window(Duration.ofSeconds(1), 10)
        .hotWhenCountAtLeast(5).ticker(ticker).build();
    TieredCache<Long, String> cache = build(builder().ticker(ticker).l1Policy(L1Policy.HOT_ONLY, detector)
        .l1(1_000, Duration.ofMinutes(1)));
    cache.get(1L);
    cache.get(1L);
    assertThat(cache.inL1(1L)).isFalse();
    for (int i = 0; i < 5; i++) {
      cache.get(2L);
    }
    assertThat(detector.isHot(2L)).isTrue();
    cache.get(2L);
    assertThat(cache.inL1(2L)).isTrue();
    assertThat(cache.stats().promotions()).isEqualTo(1);

    ticker.advance(Duration.ofSeconds(2)); // 6 decays below 0.8 x 5 well within 20 ticks
    detector.hotKeys();
    assertThat(cache.inL1(2L)).isFalse();
    assertThat(cache.stats().demotions()).isEqualTo(1);
  }

  @Test
  void anInvalidationFromOneInstanceReachesTheOthersL1() {
    TieredCache<Long, String> a = build(builder());
    TieredCache<Long, String> b = build(builder());
    assertThat(b.get(5L)).isEqualTo("room-5");
    assertThat(b.inL1(5L)).isTrue();

    a.put(5L, "room-5 renamed");
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(5L));
    assertThat(b.get(5L)).isEqualTo("room-5 renamed");
    assertThat(a.stats().invalidationsSent()).isEqualTo(1);
    assertThat(b.stats().invalidationsReceived()).isEqualTo(1);

    assertThat(a.get(6L)).isEqualTo("room-6");
    assertThat(b.get(6L)).isEqualTo("room-6");
    b.invalidate(6L);
    await().atMost(Duration.ofSeconds(10)).until(() -> !a.inL1(6L));
    try (StatefulRedisConnection<String, byte[]> raw =
        REDIS.client().connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
      assertThat(raw.sync().get(prefix + ":6")).as("the value is replaced by a tombstone").startsWith(2);
      assertThat(raw.sync().pttl(prefix + ":6")).isBetween(1L, 60_000L);
    }
  }

  @Test
  void aPubSubReconnectClearsL1BecauseInvalidationsMayHaveBeenMissed() {
    TieredCache<Long, String> cache = build(builder());
    cache.get(11L);
    assertThat(cache.inL1(11L)).isTrue();
    REDIS.commands().clientKill(io.lettuce.core.KillArgs.Builder.typePubsub());
    await().atMost(Duration.ofSeconds(20)).until(() -> !cache.inL1(11L));
    assertThat(cache.get(11L)).isEqualTo("room-11");
  }

  @Test
  void readsStillAnswerWhileRedisIsPausedAndRecover() {
    List<String> events = new CopyOnWriteList();
    TieredCache<Long, String> cache = build(builder().redisTimeout(Duration.ofMillis(50))
        .redisRetryAfter(Duration.ofMillis(200))
        .listener(new TieredCacheListener() {
          @Override
          public void onRedisDown(String cacheName, Throwable cause) {
            events.add("down");
          }

          @Override
          public void onRedisUp(String cacheName) {
            events.add("up");
          }
        }));
    REDIS.commands().clientPause(1_500);
    long start = System.nanoTime();
    assertThat(cache.get(100L)).isEqualTo("room-100");
    assertThat(cache.get(101L)).isEqualTo("room-101");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1_400));
    assertThat(cache.isRedisDown()).isTrue();
    assertThat(events).containsExactly("down");

    AtomicInteger id = new AtomicInteger(200);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      cache.get((long) id.getAndIncrement());
      return !cache.isRedisDown();
    });
    assertThat(events).containsExactly("down", "up");
    assertThat(cache.stats().redisErrors()).isPositive();
  }

  @Test
  void anUndecodableRedisValueIsAMissAndIsReplaced() {
    try (StatefulRedisConnection<String, byte[]> raw =
        REDIS.client().connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
      raw.sync().set(prefix + ":9", "garbage".getBytes(StandardCharsets.UTF_8));
      TieredCache<Long, String> cache = build(builder());
      assertThat(cache.get(9L)).isEqualTo("room-9");
      assertThat(cache.stats().decodeFailures()).isEqualTo(1);
      assertThat(loads(9)).isEqualTo(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        byte[] now = raw.sync().get(prefix + ":9");
        return now != null && now[0] == 1;
      });
    }
  }

  record RoomInfo(long id, String title, List<String> tags) {}

  /**
   * JSON values go through Redis: a second instance (empty L1) reads the first one's value from L2;
   * a stored value of another shape, or one that is not JSON, is a decode failure: a miss, loaded
   * again and replaced.
   */
  @Test
  void jsonValuesRoundTripThroughRedisAndUndecodableValuesAreMisses() {
    AtomicInteger jsonLoads = new AtomicInteger();
    Function<TieredCache.Builder<Long, RoomInfo>, TieredCache<Long, RoomInfo>> make = b -> {
      TieredCache<Long, RoomInfo> c = b.build();
      toClose.add(c);
      return c;
    };
    TieredCache.Builder<Long, RoomInfo> b = TieredCache.<Long, RoomInfo>builder("json-rooms", REDIS.client())
        .keyPrefix(prefix + "-json").invalidationChannel(prefix + ":json")
        .redisTimeout(Duration.ofSeconds(2))
        .keys(KeyCodec.longs()).values(ValueCodec.json(RoomInfo.class)).loader(id -> {
          jsonLoads.incrementAndGet();
          return new RoomInfo(id, "room " + id, List.of("music"));
        });
    TieredCache<Long, RoomInfo> a = make.apply(b);
    TieredCache<Long, RoomInfo> other = make.apply(b);
    assertThat(a.get(5L)).isEqualTo(new RoomInfo(5, "room 5", List.of("music")));
    assertThat(other.get(5L)).isEqualTo(new RoomInfo(5, "room 5", List.of("music")));
    assertThat(jsonLoads).as("the second instance read Redis, not the loader").hasValue(1);
    assertThat(other.stats().l2Hits()).isEqualTo(1);
    try (StatefulRedisConnection<String, byte[]> raw =
        REDIS.client().connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
      byte[] stored = raw.sync().get(prefix + "-json:5");
      assertThat(new String(stored, 1, stored.length - 1, StandardCharsets.UTF_8))
          .isEqualTo("{\"id\":5,\"title\":\"room 5\",\"tags\":[\"music\"]}");
      raw.sync().set(prefix + "-json:6", present(stored[0], "{\"id\":\"five\"}"));
      // what GiftKit's earlier hand-written codec accepted: an escape with a sign, non-ASCII digits
      raw.sync().set(prefix + "-json:7", present(stored[0], "{\"id\":7,\"title\":\"\\u+041\",\"tags\":[]}"));
      raw.sync().set(prefix + "-json:8", present(stored[0], "{\"id\":\u0668,\"title\":\"x\",\"tags\":[]}"));
      assertThat(other.get(6L)).isEqualTo(new RoomInfo(6, "room 6", List.of("music")));
      assertThat(other.stats().decodeFailures()).isEqualTo(1);
      assertThat(other.get(7L)).isEqualTo(new RoomInfo(7, "room 7", List.of("music")));
      assertThat(other.get(8L)).isEqualTo(new RoomInfo(8, "room 8", List.of("music")));
      assertThat(other.stats().decodeFailures()).isEqualTo(3);
      assertThat(jsonLoads).as("each undecodable value was loaded again").hasValue(4);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        byte[] now = raw.sync().get(prefix + "-json:7");
        return new String(now, 1, now.length - 1, StandardCharsets.UTF_8).equals(
            "{\"id\":7,\"title\":\"room 7\",\"tags\":[\"music\"]}");
      });
    }
  }

  /** A Redis value: the present-header byte, then the codec's bytes. */
  private static byte[] present(byte header, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    byte[] value = new byte[body.length + 1];
    value[0] = header;
    System.arraycopy(body, 0, value, 1, body.length);
    return value;
  }

  /** Two instances miss the same key in Redis at once: with the load lock, only one calls the loader. */
  @Test
  void withALoadLockOnlyOneInstanceLoadsAKeyMissingFromRedis() throws Exception {
    try (io.lettuce.core.api.StatefulRedisConnection<String, String> lockConnection = REDIS.client().connect()) {
      RedisLock locks = new RedisLock(lockConnection, prefix + ":lock:");
      CountDownLatch loading = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Function<Long, String> slowLoader = id -> {
        loaded.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        loading.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return "room-" + id;
      };
      TieredCache<Long, String> a = build(builder().loader(slowLoader)
          .loadLock(locks, Duration.ofSeconds(30), Duration.ofSeconds(20)));
      TieredCache<Long, String> b = build(builder().loader(slowLoader)
          .loadLock(locks, Duration.ofSeconds(30), Duration.ofSeconds(20)));
      ExecutorService pool = Executors.newFixedThreadPool(2);
      toClose.add(pool::shutdownNow);
      Future<String> fromA = pool.submit(() -> a.get(77L));
      loading.await(30, TimeUnit.SECONDS);
      Future<String> fromB = pool.submit(() -> b.get(77L));
      await().atMost(Duration.ofSeconds(10)).until(() -> b.stats().loadLockWaits() == 1); // b found a's lock
      release.countDown();
      assertThat(fromA.get(30, TimeUnit.SECONDS)).isEqualTo("room-77");
      assertThat(fromB.get(30, TimeUnit.SECONDS)).isEqualTo("room-77");
      assertThat(loads(77)).as("loader calls across both instances").isEqualTo(1);
      assertThat(b.stats().l2Hits()).isEqualTo(1);
      assertThat(b.stats().loads()).isZero();
    }
  }

  @Test
  void statsAddUp() {
    TieredCache<Long, String> a = build(builder());
    TieredCache<Long, String> b = build(builder());
    for (long id = 0; id < 50; id++) {
      a.get(id % 10);
      b.get(id % 20);
    }
    for (TieredCache<Long, String> c : List.of(a, b)) {
      CacheStats s = c.stats();
      assertThat(s.l1Hits() + s.l1Misses()).isEqualTo(50);
      assertThat(s.l1Misses()).isEqualTo(s.coalesced() + s.l2Hits() + s.l2Misses());
      assertThat(s.loads()).isEqualTo(s.l2Misses());
    }
    assertThat(a.stats().l1Misses()).isEqualTo(10);
    assertThat(b.stats().l1Misses()).isEqualTo(20);
    assertThat(b.stats().l2Hits()).isEqualTo(10);
  }

  @Test
  void badInvalidationSettingsAreRejectedWithTheirValues() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder().invalidationTombstoneTtl(Duration.ofMillis(10)))
        .isInstanceOf(io.giftkit.core.InvalidConfigException.class)
        .hasMessage("invalidationTombstoneTtl must be at least 1s, but was 10ms");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder().maxPendingInvalidations(0))
        .isInstanceOf(io.giftkit.core.InvalidConfigException.class)
        .hasMessage("maxPendingInvalidations must be in [1, 10000000], but was 0");
  }

  /** A thread-safe list for listener events. */
  private static final class CopyOnWriteList extends java.util.concurrent.CopyOnWriteArrayList<String> {
    private static final long serialVersionUID = 1L;
  }
}
