package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisProcess;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a {@code redis-server} of the test's own, stopped, suspended and started inside the test:
 * a cache built while Redis is down, and invalidations Redis does not answer.
 */
class TieredCacheRedisOutageTest {

  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Map<Long, AtomicInteger> loaded = new ConcurrentHashMap<>();
  private final Map<Long, AtomicLong> versions = new ConcurrentHashMap<>();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private ProcessRegistry registry;
  private RedisProcess redis;
  private RedisClient client;

  @BeforeEach
  void createRedis() {
    registry = new ProcessRegistry();
    redis = new RedisProcess(registry, dir.resolve("redis"));
    client = RedisClient.create(redis.url());
    client.setOptions(ClientOptions.builder()
        .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(2)).build()).build());
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    registry.close();
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  private long version(long id) {
    return versions.computeIfAbsent(id, k -> new AtomicLong(1)).get();
  }

  private int loads(long id) {
    AtomicInteger n = loaded.get(id);
    return n == null ? 0 : n.get();
  }

  private TieredCache<Long, String> build() {
    TieredCache<Long, String> cache = TieredCache.<Long, String>builder("rooms", client)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8())
        .loader(id -> {
          loaded.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
          return "room-" + id + " v" + version(id);
        })
        // generous: on a busy machine a slow answer must not count as one more outage
        .redisTimeout(Duration.ofSeconds(1)).redisRetryAfter(Duration.ofMillis(100))
        .listener(new TieredCacheListener() {
          @Override
          public void onRedisDown(String cacheName, Throwable cause) {
            events.add("down");
          }

          @Override
          public void onRedisUp(String cacheName) {
            events.add("up");
          }
        })
        .build();
    toClose.add(cache);
    return cache;
  }

  private byte[] rawGet(String key) {
    try (StatefulRedisConnection<String, byte[]> raw = client.connect(RedisLink.CODEC)) {
      return raw.sync().get(key);
    }
  }

  @Test
  void buildsWhileRedisIsDownServesTheLoaderAndConnectsWhenItComesBack() {
    TieredCache<Long, String> a = build();
    assertThat(a.isRedisDown()).isTrue();
    assertThat(a.isRedisConnected()).isFalse();
    assertThat(events).containsExactly("down");

    assertThat(a.get(1L)).isEqualTo("room-1 v1");
    assertThat(a.get(1L)).isEqualTo("room-1 v1");
    assertThat(loads(1)).as("the second read was an L1 hit").isEqualTo(1);
    versions.get(1L).incrementAndGet();
    a.invalidate(1L);
    assertThat(a.pendingInvalidations()).as("the Redis side of the invalidation waits for Redis").isEqualTo(1);
    assertThat(a.get(1L)).isEqualTo("room-1 v2");
    assertThat(a.inL1(1L)).isTrue();

    redis.start(Duration.ofSeconds(30));
    await().atMost(Duration.ofSeconds(20)).until(() -> a.isRedisConnected() && !a.isRedisDown());
    assertThat(events).containsExactly("down", "up");
    assertThat(a.inL1(1L)).as("L1 is cleared on connecting: invalidations were missed meanwhile").isFalse();
    await().atMost(Duration.ofSeconds(20)).until(() -> a.pendingInvalidations() == 0);
    assertThat(rawGet("rooms:1")).as("the queued invalidation's tombstone").startsWith(RedisEntries.TOMBSTONE);
    CacheStats s = a.stats();
    assertThat(s.invalidationsQueued()).isEqualTo(1);
    assertThat(s.invalidationsDropped()).isZero();
    assertThat(s.redisConnectFailures()).isPositive();
    assertThat(s.redisErrors()).isGreaterThanOrEqualTo(s.redisConnectFailures());

    // Redis is in use now: another instance's value is read from Redis, not loaded.
    TieredCache<Long, String> b = build();
    assertThat(b.isRedisDown()).isFalse();
    b.put(2L, "room-2 from b");
    assertThat(a.get(2L)).isEqualTo("room-2 from b");
    assertThat(loads(2)).isZero();
    assertThat(a.stats().l2Hits()).isEqualTo(1);

    // and pub/sub invalidation works both ways
    b.put(2L, "room-2 renamed");
    await().atMost(Duration.ofSeconds(10)).until(() -> !a.inL1(2L));
    assertThat(a.get(2L)).isEqualTo("room-2 renamed");
    assertThat(b.get(3L)).isEqualTo("room-3 v1");
    assertThat(b.inL1(3L)).isTrue();
    a.invalidate(3L);
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(3L));
    assertThat(b.stats().invalidationsReceived()).isEqualTo(1);
  }

  @Test
  void closingACacheThatNeverConnectedEndsItsReconnectAttempts() {
    TieredCache<Long, String> cache = TieredCache.<Long, String>builder("never-connected", client)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "v")
        .redisRetryAfter(Duration.ofMillis(50)).build();
    await().atMost(Duration.ofSeconds(20)).until(() -> cache.stats().redisConnectFailures() >= 2);
    cache.close();
    await().atMost(Duration.ofSeconds(20)).until(() -> Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.getName().equals("giftkit-cache-never-connected") && t.isAlive()));
    long failures = cache.stats().redisConnectFailures();
    redis.start(Duration.ofSeconds(30));
    assertThat(cache.isRedisConnected()).isFalse();
    assertThat(cache.stats().redisConnectFailures()).as("no attempt after close").isEqualTo(failures);
  }

  /** Redis stops answering (SIGSTOP) with the old value in it: the invalidation is queued, then written. */
  @Test
  void anInvalidationRedisDoesNotAnswerIsQueuedAndWrittenWhenItAnswers() {
    redis.start(Duration.ofSeconds(30));
    TieredCache<Long, String> a = build();
    TieredCache<Long, String> b = build();
    assertThat(b.get(7L)).isEqualTo("room-7 v1");
    assertThat(rawGet("rooms:7")).startsWith(RedisEntries.PRESENT);

    redis.process().suspend();
    try {
      versions.get(7L).incrementAndGet();
      a.invalidate(7L);
      assertThat(a.pendingInvalidations()).isEqualTo(1);
      assertThat(a.get(7L)).as("this instance loads the key instead of reading Redis's old value")
          .isEqualTo("room-7 v2");
      assertThat(b.inL1(7L)).as("nothing is published before the tombstone is in Redis").isTrue();
    } finally {
      redis.process().resume();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> a.pendingInvalidations() == 0);
    assertThat(rawGet("rooms:7")).startsWith(RedisEntries.TOMBSTONE);
    await().atMost(Duration.ofSeconds(20)).until(() -> !b.inL1(7L));
    assertThat(b.get(7L)).isEqualTo("room-7 v2");
    assertThat(a.stats().invalidationsQueued()).isEqualTo(1);
  }

  /**
   * With {@code maxPendingInvalidations(2)} and Redis not answering: a third key's Redis invalidation
   * is dropped and counted (Redis keeps its old value), and since more keys wait to be published than
   * that, the other instances are told to drop all of their L1.
   */
  @Test
  void aFullQueueDropsFurtherRedisInvalidationsAndTheOthersDropAllOfL1() {
    redis.start(Duration.ofSeconds(30));
    TieredCache<Long, String> a = TieredCache.<Long, String>builder("rooms", client)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id + " v" + version(id))
        .redisTimeout(Duration.ofMillis(100)).redisRetryAfter(Duration.ofMillis(100))
        .maxPendingInvalidations(2).build();
    toClose.add(a);
    TieredCache<Long, String> b = build();
    for (long id = 1; id <= 3; id++) {
      assertThat(b.get(id)).isEqualTo("room-" + id + " v1");
    }
    assertThat(b.get(10L)).isEqualTo("room-10 v1");

    redis.process().suspend();
    try {
      a.invalidate(1L);
      a.invalidate(2L);
      a.invalidate(1L); // already queued: no new entry
      a.invalidate(3L);
      assertThat(a.pendingInvalidations()).isEqualTo(2);
      assertThat(a.stats().invalidationsQueued()).isEqualTo(3);
      assertThat(a.stats().invalidationsDropped()).isEqualTo(1);
    } finally {
      redis.process().resume();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> a.pendingInvalidations() == 0);
    assertThat(rawGet("rooms:1")).startsWith(RedisEntries.TOMBSTONE);
    assertThat(rawGet("rooms:2")).startsWith(RedisEntries.TOMBSTONE);
    assertThat(rawGet("rooms:3")).as("the dropped invalidation's key keeps its old value in Redis")
        .startsWith(RedisEntries.PRESENT);
    await().atMost(Duration.ofSeconds(20)).until(() -> !b.inL1(10L) && !b.inL1(1L) && !b.inL1(3L));
    assertThat(b.stats().invalidationsReceived()).as("no key named: all of L1 dropped").isZero();
  }
}
