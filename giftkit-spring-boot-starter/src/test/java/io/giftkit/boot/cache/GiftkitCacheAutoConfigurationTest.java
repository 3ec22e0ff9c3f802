package io.giftkit.boot.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpointAutoConfiguration;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration;
import io.giftkit.cache.InvalidationMode;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.giftkit.testing.RedisExtension;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mock.env.MockEnvironment;
import tools.jackson.databind.json.JsonMapper;

/** giftkit.cache.*: a real Redis. */
class GiftkitCacheAutoConfigurationTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class,
          GiftkitCacheAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class));

  @Test
  @SuppressWarnings("unchecked")
  void cachesTakeTheirSettingsFromPropertiesWithMetricsHotKeysAndTheEndpoint() {
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(),
            "giftkit.cache.caches.rooms.l1-policy=hot-only", "giftkit.cache.caches.rooms.hot-count=5",
            "management.endpoints.web.exposure.include=giftkit", "giftkit.endpoint.write-operations-enabled=true")
        .run(context -> {
          GiftkitCaches caches = context.getBean(GiftkitCaches.class);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitCacheMetrics.class).bindTo(meters);
          AtomicInteger loads = new AtomicInteger();
          TieredCache<Long, String> rooms = caches.create("rooms", b -> b.keyPrefix(REDIS.key("rooms"))
              .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> {
                loads.incrementAndGet();
                return "room-" + id;
              }));
          for (int i = 0; i < 10; i++) {
            assertThat(rooms.get(42L)).isEqualTo("room-42");
          }
          assertThat(loads).hasValue(1);
          assertThat(rooms.inL1(42L)).as("hot after 5 reads: promoted to L1").isTrue();
          assertThat(meters.get("giftkit.cache.gets").tags("name", "rooms", "tier", "l1", "result", "hit")
              .functionCounter().count()).isPositive();
          assertThat(meters.get("giftkit.cache.loads").tags("name", "rooms", "result", "success")
              .functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.cache.hot.keys").tags("name", "rooms").gauge().value()).isEqualTo(1);
          assertThat(meters.get("giftkit.cache.redis.down").tags("name", "rooms").gauge().value()).isZero();

          org.springframework.boot.health.contributor.Health health = context.getBean(
              "giftkitCachesHealthIndicator", org.springframework.boot.health.contributor.HealthIndicator.class).health();
          assertThat(health.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
          assertThat(health.getDetails().get("rooms").toString()).isEqualTo("{redisDown=false}");
          io.giftkit.boot.GiftkitWritableEndpoint endpoint = context.getBean(io.giftkit.boot.GiftkitWritableEndpoint.class);
          Map<String, Map<String, Object>> body = (Map<String, Map<String, Object>>) endpoint.giftkit().get("caches");
          assertThat(body.get("rooms").get("hotKeys").toString()).contains("key=42");
          assertThat(endpoint.clearHotKey("rooms", "42")).containsEntry("cleared", true);
          assertThat(rooms.inL1(42L)).as("demoted: the L1 copy is dropped").isFalse();
          assertThat(endpoint.clearHotKey("rooms", "42")).containsEntry("cleared", false);
          assertThat(endpoint.clearHotKey("no-such-cache", "42")).containsEntry("cleared", false);
          rooms.invalidate(42L);
          assertThat(meters.get("giftkit.cache.invalidations.pending").tags("name", "rooms").gauge().value())
              .isZero();
          for (String counter : List.of("giftkit.cache.invalidations.queued", "giftkit.cache.invalidations.dropped",
              "giftkit.cache.stale.load.writes.skipped", "giftkit.cache.redis.connect.failures")) {
            assertThat(meters.get(counter).tags("name", "rooms").functionCounter().count()).as(counter).isZero();
          }
        });
  }

  /**
   * invalidation-mode from the defaults, overridden per cache; a tracking cache ignores the shared
   * pub/sub channel and drops its L1 copy when the key is deleted in Redis by another client.
   */
  @Test
  @SuppressWarnings("unchecked")
  void invalidationModeComesFromTheProperties() {
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(),
            "giftkit.cache.invalidation-channel=" + REDIS.key("chan"),
            "giftkit.cache.defaults.invalidation-mode=client-tracking",
            "giftkit.cache.caches.gifts.invalidation-mode=pub-sub")
        .run(context -> {
          GiftkitCaches caches = context.getBean(GiftkitCaches.class);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitCacheMetrics.class).bindTo(meters);
          TieredCache<Long, String> rooms = caches.create("rooms", b -> b.keyPrefix(REDIS.key("rooms"))
              .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id));
          TieredCache<Long, String> gifts = caches.create("gifts", b -> b.keyPrefix(REDIS.key("gifts"))
              .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "gift-" + id));
          assertThat(rooms.invalidationMode()).isEqualTo(InvalidationMode.CLIENT_TRACKING);
          assertThat(gifts.invalidationMode()).isEqualTo(InvalidationMode.PUB_SUB);
          assertThat((Map<String, Object>) caches.describe().get("rooms"))
              .containsEntry("invalidation", InvalidationMode.CLIENT_TRACKING);

          assertThat(rooms.get(1L)).isEqualTo("room-1");
          assertThat(rooms.inL1(1L)).isTrue();
          REDIS.commands().del(REDIS.key("rooms") + ":1");
          await().atMost(Duration.ofSeconds(10)).until(() -> !rooms.inL1(1L));
          assertThat(meters.get("giftkit.cache.invalidations").tags("name", "rooms", "direction", "received")
              .functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.cache.l1.clears").tags("name", "rooms").functionCounter().count())
              .as("once, on connecting").isEqualTo(1);
        });
  }

  record RoomInfo(long roomId, String title) {}

  /** Boot's JsonMapper (here with snake_case names from spring.jackson.*) writes and reads the cache's values. */
  @Test
  void giftkitCodecsUseBootsJsonMapper() {
    runner.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class))
        .withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(), "spring.jackson.property-naming-strategy=SNAKE_CASE")
        .run(context -> {
          GiftkitCodecs codecs = context.getBean(GiftkitCodecs.class);
          assertThat(codecs.usesApplicationMapper()).isTrue();
          AtomicInteger loads = new AtomicInteger();
          java.util.function.Supplier<TieredCache<Long, RoomInfo>> make = () -> context.getBean(GiftkitCaches.class)
              .create("rooms", b -> b.keyPrefix(REDIS.key("rooms-json")).keys(KeyCodec.longs())
                  .values(codecs.json(RoomInfo.class)).loader(id -> {
                    loads.incrementAndGet();
                    return new RoomInfo(id, "Room " + id);
                  }));
          TieredCache<Long, RoomInfo> first = make.get();
          assertThat(first.get(3L)).isEqualTo(new RoomInfo(3, "Room 3"));
          await().atMost(Duration.ofSeconds(10)).until(() -> REDIS.commands().get(REDIS.key("rooms-json") + ":3") != null);
          assertThat(REDIS.commands().get(REDIS.key("rooms-json") + ":3"))
              .as("a present-header byte, then JSON in Boot's naming").isEqualTo("\u0001{\"room_id\":3,\"title\":\"Room 3\"}");
          TieredCache<Long, RoomInfo> second = make.get();
          assertThat(second.get(3L)).isEqualTo(new RoomInfo(3, "Room 3"));
          assertThat(second.stats().l2Hits()).as("read from Redis, decoded by Boot's mapper").isEqualTo(1);
          assertThat(loads).hasValue(1);
        });
  }

  @Test
  void withoutBootsJsonMapperGiftkitsDefaultAndWithoutJacksonNoCodecs() {
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url()).run(context -> {
      GiftkitCodecs codecs = context.getBean(GiftkitCodecs.class);
      assertThat(codecs.usesApplicationMapper()).isFalse();
      assertThat(new String(codecs.json(RoomInfo.class).encode(new RoomInfo(3, "Room 3")), StandardCharsets.UTF_8))
          .isEqualTo("{\"roomId\":3,\"title\":\"Room 3\"}");
    });
    runner.withClassLoader(new FilteredClassLoader(JsonMapper.class))
        .withPropertyValues("giftkit.cache.redis-url=" + REDIS.url())
        .run(context -> {
          assertThat(context).hasNotFailed().doesNotHaveBean(GiftkitCodecs.class).hasSingleBean(GiftkitCaches.class);
          TieredCache<Long, String> rooms = context.getBean(GiftkitCaches.class).create("rooms", b -> b
              .keyPrefix(REDIS.key("rooms-no-jackson")).keys(KeyCodec.longs()).values(ValueCodec.utf8())
              .loader(id -> "room-" + id));
          assertThat(rooms.get(4L)).isEqualTo("room-4");
        });
  }

  @Test
  void aCacheCustomizerRunsAfterTheProperties() {
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(), "giftkit.cache.caches.rooms.l1-policy=hot-only",
            "giftkit.cache.caches.rooms.hot-count=1000")
        .withBean(TieredCacheCustomizer.class, () -> (name, b) -> b.l1Policy(TieredCache.L1Policy.ALL, null))
        .run(context -> {
          TieredCache<Long, String> rooms = context.getBean(GiftkitCaches.class).create("rooms", b -> b
              .keyPrefix(REDIS.key("rooms-customized")).keys(KeyCodec.longs()).values(ValueCodec.utf8())
              .loader(id -> "room-" + id));
          rooms.get(7L);
          assertThat(rooms.inL1(7L)).as("the customizer's ALL replaced the property's HOT_ONLY").isTrue();
        });
  }

  @Test
  void bootsRedisSettingsAreReusedAndThePasswordNeverShown() {
    MockEnvironment env = new MockEnvironment().withProperty("spring.data.redis.host", "127.0.0.1")
        .withProperty("spring.data.redis.port", "6390").withProperty("spring.data.redis.password", "s3cret")
        .withProperty("spring.data.redis.database", "2");
    RedisURI uri = GiftkitCacheAutoConfiguration.redisUri(new GiftkitCacheProperties(), env);
    assertThat(uri.getHost()).isEqualTo("127.0.0.1");
    assertThat(uri.getPort()).isEqualTo(6390);
    assertThat(uri.getDatabase()).isEqualTo(2);
    assertThat(new String(uri.getPassword())).isEqualTo("s3cret");
    assertThat(uri.toString()).doesNotContain("s3cret");

    MockEnvironment bad = new MockEnvironment().withProperty("spring.data.redis.url", "http://user:s3cret@host");
    assertThatThrownBy(() -> GiftkitCacheAutoConfiguration.redisUri(new GiftkitCacheProperties(), bad))
        .isInstanceOf(GiftkitPropertyException.class)
        .hasMessageStartingWith("spring.data.redis.url must be a redis:// or rediss:// URL")
        .hasMessageNotContaining("s3cret");
  }

  /** Without Boot's Redis support (spring-boot-data-redis is optional): spring.data.redis.* read by hand, as before. */
  @Test
  void withoutBootsRedisSupportTheSettingsAreReadByHand() {
    RedisURI shared = RedisURI.create(REDIS.url());
    runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.data.redis"))
        .withPropertyValues("spring.data.redis.host=" + shared.getHost(), "spring.data.redis.port=" + shared.getPort())
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.isCluster()).isFalse();
          assertThat(connection.uris().get(0).getPort()).isEqualTo(shared.getPort());
          TieredCache<Long, String> rooms = context.getBean(GiftkitCaches.class).create("rooms", b -> b
              .keyPrefix(REDIS.key("rooms-by-hand")).keys(KeyCodec.longs()).values(ValueCodec.utf8())
              .loader(id -> "room-" + id));
          assertThat(rooms.get(5L)).isEqualTo("room-5");
          assertThat(rooms.isRedisConnected()).isTrue();
        });
  }

  @Test
  void aBadCacheSettingNamesTheProperty() {
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(), "giftkit.cache.caches.rooms.l2-ttl=-1s")
        .run(context -> assertThatThrownBy(() -> context.getBean(GiftkitCaches.class).<Long, String>create("rooms",
            b -> b.keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "x")))
            .isInstanceOf(GiftkitPropertyException.class)
            .hasMessageStartingWith("giftkit.cache.caches.rooms.l2-ttl must be positive"));
    runner.withPropertyValues("giftkit.cache.redis-url=" + REDIS.url(), "giftkit.cache.defaults.hot-share=2",
            "giftkit.cache.defaults.l1-policy=hot-only")
        .run(context -> assertThatThrownBy(() -> context.getBean(GiftkitCaches.class).<Long, String>create("rooms",
            b -> b.keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "x")))
            .hasMessage("giftkit.cache.caches.rooms.hot-share must be in (0, 1], but was 2.0"));
  }
}
