package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.core.InvalidConfigException;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisProcess;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.ProtocolVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link InvalidationMode#CLIENT_TRACKING} against a {@code redis-server} of the class's own (the
 * tests kill its clients and flush it, which a shared server must not see).
 */
class TieredCacheClientTrackingTest {

  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static RedisProcess redis;
  private static RedisClient client;
  private static StatefulRedisConnection<String, byte[]> raw;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final String prefix = "tracked-" + System.nanoTime();
  private final AtomicLong version = new AtomicLong(1);

  @BeforeAll
  static void startRedis() {
    registry = new ProcessRegistry();
    redis = new RedisProcess(registry, dir.resolve("redis"));
    redis.start(Duration.ofSeconds(30));
    client = client(redis.url());
    raw = client.connect(RedisLink.CODEC);
  }

  @AfterAll
  static void stopRedis() {
    raw.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    registry.close();
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private static RedisClient client(String url) {
    RedisClient c = RedisClient.create(url);
    c.setOptions(ClientOptions.builder()
        .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(2)).build()).build());
    return c;
  }

  private TieredCache.Builder<Long, String> builder(RedisClient on) {
    return TieredCache.<Long, String>builder("rooms", on).keyPrefix(prefix)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8())
        .loader(id -> "room-" + id + " v" + version.get())
        .invalidation(InvalidationMode.CLIENT_TRACKING)
        .l1(1_000, Duration.ofMinutes(5))
        .redisTimeout(Duration.ofSeconds(2)) // a busy machine is not a Redis outage
        .redisRetryAfter(Duration.ofMillis(100));
  }

  /** A tracking cache; {@code heard} collects the keys Redis told it about. */
  private TieredCache<Long, String> build(Set<String> heard) {
    TieredCache<Long, String> cache = builder(client).listener(new TieredCacheListener() {
      @Override
      public void onInvalidationReceived(String cacheName, String key) {
        heard.add(key);
      }
    }).build();
    toClose.add(cache);
    return cache;
  }

  private TieredCache<Long, String> build() {
    return build(ConcurrentHashMap.newKeySet());
  }

  private static byte[] present(String value) {
    return RedisEntries.present(value.getBytes(StandardCharsets.UTF_8));
  }

  private RedisCommands<String, byte[]> redis() {
    return raw.sync();
  }

  /** Ids of the server's clients that have tracking on (flag {@code t}). */
  private Set<Long> trackingClients() {
    String list = redis().clientList();
    return Arrays.stream(list.split("\n")).filter(line -> line.matches(".* flags=[^ ]*t[^ ]* .*"))
        .map(line -> Long.parseLong(line.replaceAll("^id=(\\d+) .*$", "$1").trim()))
        .collect(Collectors.toSet());
  }

  @Test
  void theDefaultModeIsPubSub() {
    TieredCache<Long, String> cache = TieredCache.<Long, String>builder("rooms", client).keyPrefix(prefix)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id).build();
    toClose.add(cache);
    assertThat(cache.invalidationMode()).isEqualTo(InvalidationMode.PUB_SUB);
    assertThat(cache.toString()).contains("invalidation=PUB_SUB");
  }

  @Test
  void theBuilderRejectsWhatTrackingCannotDo() {
    assertThatThrownBy(() -> builder(client).invalidation(null))
        .isInstanceOf(InvalidConfigException.class).hasMessageContaining("invalidation");
    assertThatThrownBy(() -> builder(client).invalidationChannel("chan").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("invalidationChannel must not be set with invalidation CLIENT_TRACKING (nothing is published),"
            + " but was chan");
    RedisClient resp2 = client(redis.url());
    try {
      resp2.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
      assertThatThrownBy(() -> builder(resp2).build())
          .isInstanceOf(InvalidConfigException.class)
          .hasMessageStartingWith("client protocolVersion must be RESP3 or unset with invalidation CLIENT_TRACKING")
          .hasMessageEndingWith("but was RESP2");
      // the same client is fine for the default mode
      TieredCache<Long, String> pubSub = builder(resp2).invalidation(InvalidationMode.PUB_SUB).build();
      pubSub.close();
    } finally {
      resp2.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  /**
   * B's copies go when A invalidates or puts; A keeps the copy of its own put (NOLOOP): a marker
   * written after the put reaches A, so a notification of A's own write would have come before it.
   */
  @Test
  void anotherInstancesInvalidateAndPutDropTheKeyFromL1() {
    Set<String> heardByA = ConcurrentHashMap.newKeySet();
    Set<String> heardByB = ConcurrentHashMap.newKeySet();
    TieredCache<Long, String> a = build(heardByA);
    TieredCache<Long, String> b = build(heardByB);
    assertThat(b.get(1L)).isEqualTo("room-1 v1");
    assertThat(b.get(2L)).isEqualTo("room-2 v1");
    assertThat(b.inL1(1L)).isTrue();

    version.incrementAndGet();
    a.invalidate(1L);
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(1L));
    assertThat(b.get(1L)).isEqualTo("room-1 v2");

    a.put(2L, "room-2 put");
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(2L));
    assertThat(b.get(2L)).isEqualTo("room-2 put");

    redis().set(prefix + ":999", present("marker"));
    await().atMost(Duration.ofSeconds(10)).until(() -> heardByA.contains("999") && heardByB.contains("999"));
    assertThat(a.inL1(2L)).as("A's own put is not sent back to A").isTrue();
    assertThat(heardByB).contains("1", "2");
    assertThat(a.stats().invalidationsSent()).isEqualTo(2);
    assertThat(b.stats().invalidationsReceived()).isGreaterThanOrEqualTo(3);
    assertThat(b.stats().invalidationsSent()).isZero();
  }

  /**
   * B's load read the database before A's invalidation and finishes after B heard of it: its value
   * reaches neither B's L1 (the tracking message advanced the key's generation) nor Redis (the
   * tombstone is there).
   */
  @Test
  void aLoadThatStartedBeforeATrackedInvalidationWritesNeitherL1NorRedis() throws Exception {
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    Set<String> heardByB = ConcurrentHashMap.newKeySet();
    TieredCache<Long, String> a = build();
    TieredCache<Long, String> b = builder(client).loader(id -> {
      String value = "room-" + id + " v" + version.get();
      if (first.compareAndSet(true, false)) {
        reading.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return value;
    }).listener(new TieredCacheListener() {
      @Override
      public void onInvalidationReceived(String cacheName, String key) {
        heardByB.add(key);
      }
    }).build();
    toClose.add(b);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    toClose.add(pool::shutdownNow);
    Future<String> racing = pool.submit(() -> b.get(4L));
    assertThat(reading.await(30, TimeUnit.SECONDS)).isTrue();
    version.incrementAndGet();
    a.invalidate(4L);
    await().atMost(Duration.ofSeconds(10)).until(() -> heardByB.contains("4"));
    release.countDown();

    assertThat(racing.get(30, TimeUnit.SECONDS)).as("the read that started before").isEqualTo("room-4 v1");
    assertThat(b.inL1(4L)).isFalse();
    assertThat(redis().get(prefix + ":4")).as("A's tombstone, not B's old value").startsWith(RedisEntries.TOMBSTONE);
    assertThat(b.stats().staleLoadWritesSkipped()).as("the L1 write (Redis is not even tried once the generation moved)")
        .isEqualTo(1);
    assertThat(b.get(4L)).isEqualTo("room-4 v2");
  }

  /** A client that is not a TieredCache writes or deletes the key in Redis: the L1 copy goes. */
  @Test
  void writesByOtherRedisClientsDropTheKeyFromL1() {
    TieredCache<Long, String> b = build();
    assertThat(b.get(3L)).isEqualTo("room-3 v1");
    assertThat(b.inL1(3L)).isTrue();

    redis().set(prefix + ":3", present("room-3 from elsewhere"));
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(3L));
    assertThat(b.get(3L)).as("read from Redis again").isEqualTo("room-3 from elsewhere");
    assertThat(b.inL1(3L)).isTrue();

    version.incrementAndGet();
    redis().del(prefix + ":3");
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(3L));
    assertThat(b.get(3L)).as("loaded again").isEqualTo("room-3 v2");
    assertThat(b.stats().loads()).isEqualTo(2);
  }

  /**
   * The server drops B's connection ({@code CLIENT KILL}): Lettuce reconnects, B turns tracking on
   * again on the new connection and clears L1 (changes made meanwhile were not sent to it), and
   * later changes reach it again.
   */
  @Test
  void afterItsConnectionIsKilledAnInstanceClearsL1AndHearsChangesAgain() {
    TieredCache<Long, String> a = build();
    Set<Long> before = trackingClients();
    TieredCache<Long, String> b = build();
    Set<Long> mine = trackingClients();
    mine.removeAll(before);
    assertThat(mine).as("B's one connection, tracking").hasSize(1);
    b.get(1L);
    b.get(2L);
    assertThat(b.inL1(1L) && b.inL1(2L)).isTrue();
    long clears = b.stats().l1Clears();

    long killed = mine.iterator().next();
    assertThat(redis().clientKill(KillArgs.Builder.id(killed))).isEqualTo(1);

    await().atMost(Duration.ofSeconds(20)).until(() -> b.stats().l1Clears() > clears);
    assertThat(b.inL1(1L)).isFalse();
    assertThat(b.inL1(2L)).isFalse();
    Set<Long> now = trackingClients();
    now.removeAll(before);
    assertThat(now).as("B's new connection tracks again").hasSize(1).doesNotContain(killed);

    assertThat(b.get(1L)).isEqualTo("room-1 v1");
    version.incrementAndGet();
    a.invalidate(1L);
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(1L));
    assertThat(b.get(1L)).isEqualTo("room-1 v2");
    b.get(2L);
    redis().set(prefix + ":2", present("room-2 from elsewhere"));
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(2L));
  }

  /**
   * Redis stops answering (SIGSTOP) while A invalidates two keys with room for one in its queue:
   * the first is written when Redis answers again and reaches B as usual; the second, dropped, can
   * reach B only as "drop all of L1" (the reserved key A writes once its queue is written).
   */
  @Test
  void invalidationsDroppedFromAFullQueueMakeTheOthersClearL1() {
    TieredCache<Long, String> a = builder(client).maxPendingInvalidations(1)
        .redisTimeout(Duration.ofMillis(200)).build();
    toClose.add(a);
    TieredCache<Long, String> b = build();
    b.get(1L);
    b.get(2L);
    assertThat(b.inL1(1L) && b.inL1(2L)).isTrue();
    long clears = b.stats().l1Clears();

    redis.process().suspend();
    try {
      a.invalidate(1L);
      a.invalidate(2L);
      assertThat(a.pendingInvalidations()).isEqualTo(1);
      assertThat(a.stats().invalidationsDropped()).isEqualTo(1);
    } finally {
      redis.process().resume();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> b.stats().l1Clears() > clears && !b.inL1(1L));
    assertThat(b.inL1(2L)).isFalse();
    assertThat(a.pendingInvalidations()).isZero();
  }

  /** {@code FLUSHALL}: Redis sends an invalidation with no keys, and every instance clears L1. */
  @Test
  void flushAllClearsL1() {
    TieredCache<Long, String> b = build();
    b.get(1L);
    b.get(2L);
    long clears = b.stats().l1Clears();
    redis().flushall();
    await().atMost(Duration.ofSeconds(10)).until(() -> b.stats().l1Clears() > clears);
    assertThat(b.inL1(1L)).isFalse();
    assertThat(b.inL1(2L)).isFalse();
    version.incrementAndGet();
    assertThat(b.get(1L)).isEqualTo("room-1 v2");
  }

  /**
   * Built while its Redis is down, a tracking cache serves the loader; once Redis is up it connects,
   * turns tracking on, and hears changes.
   */
  @Test
  void aTrackingCacheBuiltWhileRedisIsDownConnectsAndTracksLater() {
    RedisProcess later = new RedisProcess(registry, dir.resolve("redis-later"));
    RedisClient laterClient = client(later.url());
    try {
      TieredCache<Long, String> b = builder(laterClient).build();
      toClose.add(b);
      assertThat(b.isRedisConnected()).isFalse();
      assertThat(b.get(5L)).isEqualTo("room-5 v1");

      later.start(Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(30)).until(b::isRedisConnected);
      assertThat(b.inL1(5L)).as("cleared on connecting").isFalse();
      assertThat(b.get(5L)).isEqualTo("room-5 v1");
      assertThat(b.inL1(5L)).isTrue();
      try (StatefulRedisConnection<String, byte[]> other = laterClient.connect(RedisLink.CODEC)) {
        other.sync().set(prefix + ":5", present("room-5 from elsewhere"));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(5L));
      assertThat(b.get(5L)).isEqualTo("room-5 from elsewhere");
    } finally {
      toClose.forEach(c -> {
        try {
          c.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      toClose.clear();
      laterClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      later.close();
    }
  }
}
