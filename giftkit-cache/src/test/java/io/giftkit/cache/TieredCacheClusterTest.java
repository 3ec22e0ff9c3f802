package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.core.InvalidConfigException;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisCluster;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Against a real Redis Cluster of the test's own: three {@code redis-server} masters on loopback
 * ports joined by {@code redis-cli --cluster create}, killed at the end.
 */
class TieredCacheClusterTest {

  private static ProcessRegistry registry;
  private static RedisCluster cluster;
  private static RedisClusterClient client;
  private static Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Map<Long, AtomicInteger> loaded = new ConcurrentHashMap<>();
  private final Map<Long, AtomicLong> versions = new ConcurrentHashMap<>();
  private final String prefix = "rooms-" + System.nanoTime();

  @BeforeAll
  static void startCluster() throws Exception {
    dir = Files.createTempDirectory("giftkit-redis-cluster");
    registry = new ProcessRegistry();
    try {
      cluster = new RedisCluster(registry, dir, 3);
      cluster.start(Duration.ofSeconds(30));
      client = RedisClusterClient.create(cluster.urls().stream().map(RedisURI::create).toList());
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  @AfterAll
  static void stopCluster() {
    try {
      if (client != null) {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    } finally {
      registry.close();
    }
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private TieredCache<Long, String> build() {
    TieredCache<Long, String> cache = TieredCache.<Long, String>builder("rooms", client)
        .keyPrefix(prefix).keys(KeyCodec.longs()).values(ValueCodec.utf8())
        .loader(id -> {
          loaded.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
          return "room-" + id + " v" + versions.computeIfAbsent(id, k -> new AtomicLong(1)).get();
        })
        .redisTimeout(Duration.ofSeconds(2)) // a busy CI machine is not a Redis outage
        .build();
    toClose.add(cache);
    return cache;
  }

  private int loads(long id) {
    AtomicInteger n = loaded.get(id);
    return n == null ? 0 : n.get();
  }

  /** @return for each master's port, the first two ids whose Redis keys hash to a slot it owns */
  private Map<Integer, List<Long>> idsPerNode() {
    Map<Integer, List<Long>> byPort = new TreeMap<>();
    for (long id = 1; byPort.size() < 3 || byPort.values().stream().anyMatch(l -> l.size() < 2); id++) {
      int slot = SlotHash.getSlot(prefix + ":" + id);
      int port = client.getPartitions().getPartitionBySlot(slot).getUri().getPort();
      List<Long> ids = byPort.computeIfAbsent(port, p -> new ArrayList<>());
      if (ids.size() < 2) {
        ids.add(id);
      }
    }
    return byPort;
  }

  /** Whether the node on {@code port} itself holds {@code key} (a direct, non-cluster connection). */
  private static boolean nodeHolds(int port, String key) {
    RedisClient direct = RedisClient.create(RedisURI.create("127.0.0.1", port));
    try (StatefulRedisConnection<String, String> c = direct.connect()) {
      return c.sync().exists(key) == 1;
    } finally {
      direct.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Test
  void theClusterHasThreeMasters() {
    assertThat(client.getPartitions().size()).isEqualTo(3);
    assertThat(idsPerNode().keySet()).containsExactlyInAnyOrderElementsOf(cluster.ports());
  }

  @Test
  void readThroughAndL2HitsWithKeysOnEveryMaster() {
    TieredCache<Long, String> a = build();
    TieredCache<Long, String> b = build();
    assertThat(a.isRedisConnected()).isTrue();
    Map<Integer, List<Long>> perNode = idsPerNode();
    for (Map.Entry<Integer, List<Long>> e : perNode.entrySet()) {
      for (long id : e.getValue()) {
        assertThat(a.get(id)).isEqualTo("room-" + id + " v1");
        assertThat(nodeHolds(e.getKey(), prefix + ":" + id)).as("key of id %d on the master on port %d", id,
            e.getKey()).isTrue();
        assertThat(b.get(id)).isEqualTo("room-" + id + " v1");
        assertThat(loads(id)).as("the second instance read Redis, not the loader").isEqualTo(1);
      }
    }
    assertThat(b.stats().l2Hits()).isEqualTo(6);
    assertThat(a.stats().loads()).isEqualTo(6);
    assertThat(a.stats().redisErrors()).isZero();
    assertThat(b.stats().redisErrors()).isZero();
  }

  @Test
  void invalidationsAndPutsReachTheOtherInstanceWhicheverMasterHoldsTheKey() {
    TieredCache<Long, String> a = build();
    TieredCache<Long, String> b = build();
    Map<Integer, List<Long>> perNode = idsPerNode();
    List<Long> ids = perNode.values().stream().map(l -> l.get(0)).toList();
    for (long id : ids) {
      assertThat(b.get(id)).isEqualTo("room-" + id + " v1");
      assertThat(b.inL1(id)).isTrue();
    }
    for (long id : ids) {
      versions.get(id).incrementAndGet();
      a.invalidate(id);
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      for (long id : ids) {
        assertThat(b.inL1(id)).as("id %d dropped from the other instance's L1", id).isFalse();
      }
    });
    for (long id : ids) {
      assertThat(b.get(id)).as("the tombstone in Redis is a miss: reloaded").isEqualTo("room-" + id + " v2");
    }
    assertThat(b.stats().invalidationsReceived()).isGreaterThanOrEqualTo(3);

    long putId = perNode.values().stream().map(l -> l.get(1)).findFirst().orElseThrow();
    assertThat(b.get(putId)).isEqualTo("room-" + putId + " v1");
    a.put(putId, "written by a");
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(putId));
    assertThat(b.get(putId)).as("read from Redis").isEqualTo("written by a");
  }

  /** The README's example, compiled and run on the test's cluster. */
  @Test
  void theReadmeExample() {
    String node1 = cluster.urls().get(0);
    String node2 = cluster.urls().get(1);
    Function<Long, String> loadJson = id -> "{\"room\":" + id + "}";
    // README begin
    RedisClusterClient cluster = RedisClusterClient.create(List.of(RedisURI.create(node1), RedisURI.create(node2)));
    TieredCache<Long, String> rooms = TieredCache.<Long, String>builder("rooms", cluster)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(loadJson)
        .build();
    // README end
    try {
      assertThat(rooms.get(42L)).isEqualTo("{\"room\":42}");
      assertThat(rooms.stats().redisErrors()).isZero();
    } finally {
      rooms.close();
      cluster.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Test
  void clientTrackingIsRefusedWithAClusterClient() {
    TieredCache.Builder<Long, String> builder = TieredCache.<Long, String>builder("rooms", client)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "x")
        .invalidation(InvalidationMode.CLIENT_TRACKING);
    assertThatThrownBy(builder::build).isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("client").hasMessageContaining("RedisClusterClient")
        .hasMessageContaining("CLIENT_TRACKING");
  }

  @Test
  void aLockPerKeyOnAClusterConnection() {
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      RedisLock locks = new RedisLock(c, prefix + ":lock:");
      Map<Integer, String> namePerNode = new HashMap<>();
      for (int i = 0; namePerNode.size() < 3; i++) {
        int slot = SlotHash.getSlot(prefix + ":lock:n" + i);
        namePerNode.putIfAbsent(client.getPartitions().getPartitionBySlot(slot).getUri().getPort(), "n" + i);
      }
      for (String name : namePerNode.values()) {
        Optional<RedisLock.Lease> lease = locks.tryAcquire(name, Duration.ofSeconds(30));
        assertThat(lease).isPresent();
        assertThat(locks.tryAcquire(name, Duration.ofSeconds(30))).as("held").isEmpty();
        lease.get().close();
        Optional<RedisLock.Lease> again = locks.tryAcquire(name, Duration.ofSeconds(30));
        assertThat(again).as("released").isPresent();
        again.get().close();
      }
    }
  }
}
