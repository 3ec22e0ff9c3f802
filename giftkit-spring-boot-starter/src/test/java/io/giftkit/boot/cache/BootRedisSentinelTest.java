package io.giftkit.boot.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisProcess;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code spring.data.redis.sentinel.*}: a real {@code redis-server} master and a real Sentinel
 * ({@code redis-server sentinel.conf --sentinel}) watching it, both the test's own processes; the
 * caches find the master through the Sentinel.
 */
class BootRedisSentinelTest {

  private static ProcessRegistry registry;
  private static RedisProcess master;
  private static int sentinelPort;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, GiftkitAutoConfiguration.class,
          GiftkitCacheAutoConfiguration.class));

  @BeforeAll
  static void startMasterAndSentinel() throws Exception {
    Path dir = Files.createTempDirectory("giftkit-redis-sentinel");
    registry = new ProcessRegistry();
    try {
      master = new RedisProcess(registry, dir.resolve("master"));
      master.start(Duration.ofSeconds(30));
      sentinelPort = ManagedProcess.freePort();
      Path conf = dir.resolve("sentinel/sentinel.conf");
      Files.createDirectories(conf.getParent());
      Files.writeString(conf, "port " + sentinelPort + "\nbind 127.0.0.1\ndir " + conf.getParent() + "\n"
          + "sentinel monitor gifts 127.0.0.1 " + port(master) + " 1\n");
      ManagedProcess sentinel = new ManagedProcess(registry, "redis-sentinel",
          List.of("redis-server", conf.toString(), "--sentinel"), Map.of(), conf.getParent().resolve("sentinel.log"));
      sentinel.start();
      RedisClient probe = RedisClient.create(RedisURI.create("127.0.0.1", sentinelPort));
      try {
        sentinel.awaitReady(Duration.ofSeconds(30), () -> {
          try (StatefulRedisSentinelConnection<String, String> c = probe.connectSentinel()) {
            SocketAddress named = c.sync().getMasterAddrByName("gifts");
            return named instanceof InetSocketAddress a && a.getPort() == port(master);
          }
        });
      } finally {
        probe.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  private static int port(RedisProcess redis) {
    return Integer.parseInt(redis.url().substring(redis.url().lastIndexOf(':') + 1));
  }

  @AfterAll
  static void stopAll() {
    registry.close();
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  @Test
  void theCachesFindTheMasterThroughTheSentinel() {
    runner.withPropertyValues("spring.data.redis.sentinel.master=gifts",
            "spring.data.redis.sentinel.nodes=127.0.0.1:" + sentinelPort)
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.uris().get(0).getSentinelMasterId()).isEqualTo("gifts");
          AtomicInteger loads = new AtomicInteger();
          TieredCache<Long, String> rooms = context.getBean(GiftkitCaches.class).create("rooms", b -> b
              .keyPrefix("sentinel-rooms").keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> {
                loads.incrementAndGet();
                return "room-" + id;
              }).redisTimeout(Duration.ofSeconds(2)));
          assertThat(rooms.isRedisConnected()).isTrue();
          assertThat(rooms.get(9L)).isEqualTo("room-9");
          RedisClient direct = RedisClient.create(master.url());
          try (StatefulRedisConnection<String, String> c = direct.connect()) {
            assertThat(c.sync().exists("sentinel-rooms:9")).as("written on the master the Sentinel names")
                .isEqualTo(1);
          } finally {
            direct.shutdown(Duration.ZERO, Duration.ofSeconds(2));
          }
        });
  }
}
