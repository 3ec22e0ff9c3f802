package io.giftkit.boot.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.boot.mq.GiftkitMqAutoConfiguration;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.TieredCacheListener;
import io.giftkit.cache.ValueCodec;
import io.giftkit.mq.RedisIdempotencyStore;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisCluster;
import io.giftkit.testing.process.RedisProcess;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * GiftKit's caches on Boot's Redis settings ({@code spring.data.redis.*} through Boot's own
 * {@code DataRedisAutoConfiguration} and its connection details): a real three-master Redis Cluster
 * and a real {@code redis-server} with an ACL user, both the test's own processes, killed at the end.
 */
class BootRedisSettingsTest {

  private static final String ACL_USER = "giftkit-app";
  private static final String ACL_PASSWORD = "acl-s3cret-pw";

  private static ProcessRegistry registry;
  private static RedisCluster cluster;
  private static RedisProcess standalone;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, GiftkitAutoConfiguration.class,
          GiftkitCacheAutoConfiguration.class, GiftkitMqAutoConfiguration.class));

  @BeforeAll
  static void startRedis() throws Exception {
    Path dir = Files.createTempDirectory("giftkit-boot-redis");
    registry = new ProcessRegistry();
    try {
      cluster = new RedisCluster(registry, dir.resolve("cluster"), 3);
      cluster.start(Duration.ofSeconds(30));
      standalone = new RedisProcess(registry, dir.resolve("standalone"));
      standalone.start(Duration.ofSeconds(30));
      RedisClient admin = RedisClient.create(standalone.url());
      try (StatefulRedisConnection<String, String> c = admin.connect()) {
        // an ACL user that may use GiftKit's keys and channels only
        c.sync().aclSetuser(ACL_USER, io.lettuce.core.AclSetuserArgs.Builder.on().addPassword(ACL_PASSWORD)
            .keyPattern("acl-rooms:*").keyPattern("giftkit:idem:*").channelPattern("giftkit:invalidate:*").allCommands());
      } finally {
        admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  @AfterAll
  static void stopRedis() {
    registry.close();
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  private static TieredCache<Long, String> rooms(GiftkitCaches caches, String prefix, AtomicInteger loads) {
    return caches.create("rooms", b -> b.keyPrefix(prefix).keys(KeyCodec.longs()).values(ValueCodec.utf8())
        .loader(id -> {
          loads.incrementAndGet();
          return "room-" + id;
        }).redisTimeout(Duration.ofSeconds(2)));
  }

  /** spring.data.redis.cluster.nodes: the caches use a RedisClusterClient, keys land on every master. */
  @Test
  void clusterNodesFromBootMakeTheCachesUseTheCluster() {
    runner.withPropertyValues("spring.data.redis.cluster.nodes=" + cluster.nodesList()).run(context -> {
      assertThat(context).hasNotFailed();
      GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
      assertThat(connection.isCluster()).isTrue();
      assertThat(connection.uris()).hasSize(3);
      GiftkitCaches caches = context.getBean(GiftkitCaches.class);
      assertThat(caches.usesCluster()).isTrue();

      String prefix = "boot-rooms-" + System.nanoTime();
      AtomicInteger loads = new AtomicInteger();
      TieredCache<Long, String> a = rooms(caches, prefix, loads);
      TieredCache<Long, String> b = rooms(caches, prefix, loads);
      RedisClusterClient check = RedisClusterClient.create(cluster.urls().stream().map(RedisURI::create).toList());
      try (StatefulRedisClusterConnection<String, String> c = check.connect()) {
        Set<Integer> masters = new HashSet<>();
        for (long id = 1; id <= 30; id++) {
          assertThat(a.get(id)).isEqualTo("room-" + id);
          assertThat(b.get(id)).isEqualTo("room-" + id);
          assertThat(c.sync().exists(prefix + ":" + id)).isEqualTo(1);
          masters.add(check.getPartitions().getPartitionBySlot(SlotHash.getSlot(prefix + ":" + id)).getUri().getPort());
        }
        assertThat(masters).as("30 keys spread over the three masters").hasSize(3);
      } finally {
        check.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
      assertThat(loads).as("the second instance read Redis, not the loader").hasValue(30);
      assertThat(b.stats().l2Hits()).isEqualTo(30);
      assertThat(a.isRedisDown()).isFalse();

      a.invalidate(7L);
      await().atMost(Duration.ofSeconds(10)).until(() -> !b.inL1(7L));
      assertThat(b.get(7L)).isEqualTo("room-7");
      assertThat(loads).as("reloaded once after the invalidation").hasValue(31);

      // the Redis idempotency store: lazy, then on the same cluster
      assertThat(context.getBeanFactory().containsSingleton("giftkitRedisStoreConnection"))
          .as("no connection until the store is asked for").isFalse();
      RedisIdempotencyStore store = context.getBean(RedisIdempotencyStore.class);
      List<String> orders = java.util.stream.IntStream.range(0, 30).mapToObj(i -> prefix + "-order-" + i).toList();
      RedisIdempotencyStore.Claims claims = store.claimAll("settlement", orders);
      assertThat(claims.fresh()).containsExactlyElementsOf(orders);
      claims.complete();
      assertThat(store.claimAll("settlement", orders).fresh()).as("duplicates").isEmpty();
      RedisClusterClient idem = RedisClusterClient.create(cluster.urls().stream().map(RedisURI::create).toList());
      try (StatefulRedisClusterConnection<String, String> c = idem.connect()) {
        Set<Integer> masters = new HashSet<>();
        for (String order : orders) {
          String key = "giftkit:idem:settlement:" + order;
          assertThat(c.sync().get(key)).isEqualTo("done");
          masters.add(idem.getPartitions().getPartitionBySlot(SlotHash.getSlot(key)).getUri().getPort());
        }
        assertThat(masters).as("claims on every master").hasSize(3);
      } finally {
        idem.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    });
  }

  /** spring.data.redis.username/password: the caches connect as the ACL user; a wrong password is a clear error. */
  @Test
  void anAclUserFromBootReachesTheClient() {
    int port = Integer.parseInt(standalone.url().substring(standalone.url().lastIndexOf(':') + 1));
    runner.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + port,
            "spring.data.redis.username=" + ACL_USER, "spring.data.redis.password=" + ACL_PASSWORD)
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.uris().get(0).getUsername()).isEqualTo(ACL_USER);
          assertThat(connection.toString()).contains("127.0.0.1").doesNotContain(ACL_PASSWORD);
          AtomicInteger loads = new AtomicInteger();
          TieredCache<Long, String> a = rooms(context.getBean(GiftkitCaches.class), "acl-rooms", loads);
          assertThat(a.isRedisConnected()).isTrue();
          assertThat(a.get(1L)).isEqualTo("room-1");
          assertThat(a.stats().redisErrors()).isZero();
          RedisClient admin = RedisClient.create(standalone.url());
          try (StatefulRedisConnection<String, String> c = admin.connect()) {
            assertThat(c.sync().exists("acl-rooms:1")).isEqualTo(1);
            assertThat(c.sync().clientList()).as("the cache's connections are the ACL user's")
                .contains("user=" + ACL_USER);
            RedisIdempotencyStore store = context.getBean(RedisIdempotencyStore.class);
            assertThat(store.claimAll("g", List.of("acl-order")).fresh()).containsExactly("acl-order");
            assertThat(c.sync().exists("giftkit:idem:g:acl-order")).isEqualTo(1);
            assertThat(c.sync().clientList().lines().filter(l -> l.contains(" user=" + ACL_USER + " ")).count())
                .as("the cache's command and pub/sub connections and the store's, all the ACL user's").isEqualTo(3);
          } finally {
            admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
          }
        });

    runner.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + port,
            "spring.data.redis.username=" + ACL_USER, "spring.data.redis.password=wrong-password")
        .run(context -> {
          List<Throwable> downs = new CopyOnWriteArrayList<>();
          TieredCache<Long, String> a = context.getBean(GiftkitCaches.class).create("rooms", b -> b
              .keyPrefix("acl-rooms").keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id)
              .listener(new TieredCacheListener() {
                @Override
                public void onRedisDown(String cacheName, Throwable cause) {
                  downs.add(cause);
                }
              }));
          assertThat(a.isRedisConnected()).isFalse();
          assertThat(a.get(1L)).as("served by the loader").isEqualTo("room-1");
          assertThat(downs).isNotEmpty();
          Throwable root = downs.get(0);
          StringBuilder chain = new StringBuilder();
          for (Throwable t = root; t != null; t = t.getCause()) {
            chain.append(t).append('\n');
          }
          assertThat(chain.toString()).contains("WRONGPASS").doesNotContain("wrong-password");
        });
  }

  /**
   * Sentinel at the settings level (no Sentinel is started): master, sentinels with their own
   * password, the data nodes' ACL user and password, database, SSL, timeouts; no password shown.
   */
  @Test
  void sentinelSettingsFromBoot() {
    runner.withPropertyValues("spring.data.redis.sentinel.master=gifts", "spring.data.redis.sentinel.nodes="
            + "127.0.0.1:26379,127.0.0.1:26380", "spring.data.redis.sentinel.password=sentinel-pw",
            "spring.data.redis.username=app", "spring.data.redis.password=data-pw", "spring.data.redis.database=3",
            "spring.data.redis.ssl.enabled=true", "spring.data.redis.timeout=3s",
            "spring.data.redis.connect-timeout=2s", "spring.data.redis.client-name=gift-api")
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.isCluster()).isFalse();
          RedisURI uri = connection.uris().get(0);
          assertThat(uri.getSentinelMasterId()).isEqualTo("gifts");
          assertThat(uri.getSentinels()).extracting(RedisURI::getPort).containsExactly(26379, 26380);
          assertThat(new String(uri.getSentinels().get(0).getPassword())).isEqualTo("sentinel-pw");
          assertThat(uri.getUsername()).isEqualTo("app");
          assertThat(new String(uri.getPassword())).isEqualTo("data-pw");
          assertThat(uri.getDatabase()).isEqualTo(3);
          assertThat(uri.isSsl()).isTrue();
          assertThat(uri.getTimeout()).isEqualTo(Duration.ofSeconds(3));
          assertThat(uri.getClientName()).isEqualTo("gift-api");
          assertThat(connection.options().getSocketOptions().getConnectTimeout()).isEqualTo(Duration.ofSeconds(2));
          assertThat(connection.options().getSslOptions()).as("from the default SSL bundle").isNotNull();
          assertThat(connection.toString()).doesNotContain("sentinel-pw").doesNotContain("data-pw");
        });
  }

  /** Cluster settings: every node carries the credentials and SSL; max-redirects and refresh reach the options. */
  @Test
  void clusterSettingsFromBoot() {
    runner.withPropertyValues("spring.data.redis.cluster.nodes=10.0.0.1:7000,10.0.0.2:7001",
            "spring.data.redis.cluster.max-redirects=7", "spring.data.redis.lettuce.cluster.refresh.adaptive=true",
            "spring.data.redis.lettuce.cluster.refresh.period=30s", "spring.data.redis.password=pw")
        .run(context -> {
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.isCluster()).isTrue();
          assertThat(connection.uris()).extracting(RedisURI::getHost).containsExactly("10.0.0.1", "10.0.0.2");
          assertThat(connection.uris()).allSatisfy(u -> assertThat(new String(u.getPassword())).isEqualTo("pw"));
          ClusterClientOptions options = (ClusterClientOptions) connection.options();
          assertThat(options.getMaxRedirects()).isEqualTo(7);
          assertThat(options.getTopologyRefreshOptions().isPeriodicRefreshEnabled()).isTrue();
          assertThat(options.getTopologyRefreshOptions().getRefreshPeriod()).isEqualTo(Duration.ofSeconds(30));
          assertThat(options.getTopologyRefreshOptions().getAdaptiveRefreshTriggers()).isNotEmpty();
          assertThat(connection.toString()).doesNotContain("pw@").doesNotContain(":pw");
        });
  }

  /** giftkit.cache.redis-url still wins over Boot's settings; a bad one is named, never echoed. */
  @Test
  void giftkitsOwnUrlWins() {
    runner.withPropertyValues("spring.data.redis.cluster.nodes=" + cluster.nodesList(),
            "giftkit.cache.redis-url=rediss://user:url-pw@127.0.0.1:6399/4")
        .run(context -> {
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.isCluster()).isFalse();
          RedisURI uri = connection.uris().get(0);
          assertThat(uri.getPort()).isEqualTo(6399);
          assertThat(uri.getDatabase()).isEqualTo(4);
          assertThat(uri.isSsl()).isTrue();
          assertThat(uri.getUsername()).isEqualTo("user");
          assertThat(connection.toString()).doesNotContain("url-pw");
        });
    runner.withPropertyValues("giftkit.cache.redis-url=http://user:url-pw@host").run(context -> {
      assertThat(context).hasFailed();
      assertThat(context.getStartupFailure()).rootCause().isInstanceOf(GiftkitPropertyException.class)
          .hasMessageStartingWith("giftkit.cache.redis-url must be a redis:// or rediss:// URL")
          .hasMessageNotContaining("url-pw");
    });
  }

  /** A static master/replica setup is refused, naming the property. */
  @Test
  void masterReplicaIsRefusedNamingTheProperty() {
    runner.withPropertyValues("spring.data.redis.masterreplica.nodes=127.0.0.1:6390,127.0.0.1:6391").run(context -> {
      assertThat(context).hasFailed();
      assertThat(context.getStartupFailure()).rootCause().isInstanceOf(GiftkitPropertyException.class)
          .hasMessageStartingWith("spring.data.redis.masterreplica.nodes is not supported by GiftKit's caches");
    });
  }
}
