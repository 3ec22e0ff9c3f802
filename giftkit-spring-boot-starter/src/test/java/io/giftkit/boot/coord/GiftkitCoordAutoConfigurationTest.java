package io.giftkit.boot.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpoint;
import io.giftkit.boot.GiftkitEndpointAutoConfiguration;
import io.giftkit.boot.GiftkitFailureAnalyzer;
import io.giftkit.coord.Consistency;
import io.giftkit.coord.ConsistentKv;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.EtcdLock;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistration;
import io.giftkit.coord.ServiceRegistry;
import io.giftkit.coord.ServiceResolver;
import io.giftkit.core.Site;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ProcessRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * giftkit.coord.*: a real one-member etcd of the test's own (and, for the health going DOWN, a second
 * member with etcd's authentication on, killed with SIGKILL during the test).
 */
class GiftkitCoordAutoConfigurationTest {

  @TempDir static Path dir;

  @org.junit.jupiter.api.extension.RegisterExtension
  static final io.giftkit.testing.RedisExtension REDIS = new io.giftkit.testing.RedisExtension();

  private static ProcessRegistry processes;
  private static EtcdCluster etcd;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GiftkitAutoConfiguration.class, GiftkitCoordAutoConfiguration.class,
          GiftkitEndpointAutoConfiguration.class));

  @BeforeAll
  static void startEtcd() {
    processes = new ProcessRegistry();
    etcd = new EtcdCluster(processes, dir.resolve("shared"), 1);
    etcd.start(Duration.ofSeconds(30));
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
    processes.close();
    assertThat(processes.survivors()).as("etcd processes left behind").isEmpty();
  }

  /**
   * Every bean from the endpoint alone; the application registers itself (site from giftkit.site) and
   * a resolver from GiftkitServiceResolvers sees it; the namespace prefixes the keys; a lock taken
   * moves the wait and hold timers and shows in the endpoint with its token, a leadership likewise;
   * health is UP with details.
   */
  @Test
  @SuppressWarnings("unchecked")
  void beansFromTheEndpointTheAppRegistersItselfAndLocksShowInMetricsEndpointAndHealth() {
    runner.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0), "giftkit.site=a",
            "giftkit.coord.namespace=app1/", "giftkit.coord.lease-ttl=4s", "giftkit.coord.timeout=2s",
            "giftkit.coord.registration.enabled=true", "giftkit.coord.registration.service-name=gift-api",
            "giftkit.coord.registration.address=10.0.0.7:8080", "giftkit.coord.registration.metadata.version=1.4",
            "management.endpoints.web.exposure.include=giftkit")
        .run(context -> {
          assertThat(context).hasNotFailed();
          for (Class<?> type : List.of(Client.class, EtcdLocks.class, ConsistentKv.class, EtcdElections.class,
              ServiceRegistry.class, ServiceRegistration.class, GiftkitServiceResolvers.class,
              GiftkitCoordMetrics.class, GiftkitEndpoint.class)) {
            assertThat(context).as(type.getSimpleName()).hasSingleBean(type);
          }
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitCoordMetrics.class).bindTo(meters);

          ServiceRegistration me = context.getBean(ServiceRegistration.class);
          assertThat(me.isRegistered()).isTrue();
          assertThat(me.key()).isEqualTo("app1/giftkit/services/gift-api/a/10.0.0.7:8080");
          ServiceResolver giftApi = context.getBean(GiftkitServiceResolvers.class).resolver("gift-api");
          assertThat(context.getBean(GiftkitServiceResolvers.class).resolver("gift-api")).isSameAs(giftApi);
          ServiceInstance seen = giftApi.choose().orElseThrow();
          assertThat(seen.address()).isEqualTo("10.0.0.7:8080");
          assertThat(seen.site()).isEqualTo(Site.of("a"));
          assertThat(seen.metadata()).containsEntry("version", "1.4");
          assertThat(meters.get("giftkit.coord.discovery.instances").tags("service", "gift-api", "site", "a").gauge()
              .value()).isEqualTo(1);

          ConsistentKv kv = context.getBean(ConsistentKv.class);
          kv.put("room:42:owner", "a");
          try (Client raw = Client.builder().endpoints(etcd.clientUrl(0)).build()) {
            assertThat(raw.getKVClient().get(ByteSequence.from("app1/room:42:owner", StandardCharsets.UTF_8))
                .get(5, TimeUnit.SECONDS).getKvs()).as("the namespace prefixes the key").hasSize(1);
          }
          assertThat(kv.get("room:42:owner", Consistency.LINEARIZABLE).entry().orElseThrow().value()).isEqualTo("a");

          EtcdLocks locks = context.getBean(EtcdLocks.class);
          assertThat(meters.get("giftkit.coord.lock.wait").functionTimer().count()).isZero();
          EtcdLock lock = locks.tryLock("settlement:2026-12", Duration.ofSeconds(2)).orElseThrow();
          assertThat(lock.key()).startsWith("app1/giftkit/lock/settlement:2026-12/");
          assertThat(meters.get("giftkit.coord.lock.wait").functionTimer().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.coord.lock.wait").functionTimer().totalTime(TimeUnit.NANOSECONDS))
              .isPositive();
          assertThat(meters.get("giftkit.coord.locks.held").gauge().value()).isEqualTo(1);

          Map<String, Object> coord = (Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit()
              .get("coord");
          List<Map<String, Object>> held = (List<Map<String, Object>>) coord.get("locks");
          assertThat(held).hasSize(1);
          assertThat(held.get(0)).containsEntry("name", "settlement:2026-12")
              .containsEntry("fencingToken", lock.fencingToken()).containsEntry("held", true);
          assertThat(coord.get("endpoints")).isEqualTo(List.of(etcd.clientUrl(0)));
          assertThat(coord.get("registration").toString()).contains("service=gift-api", "site=a", "registered=true");
          assertThat(coord.get("discovery").toString()).isEqualTo(
              "{gift-api={a=[{instanceId=10.0.0.7:8080, address=10.0.0.7:8080, metadata={version=1.4}}]}}");

          Health health = context.getBean("giftkitCoordHealthIndicator", HealthIndicator.class).health();
          assertThat(health.getStatus()).isEqualTo(Status.UP);
          assertThat(health.getDetails()).containsEntry("endpoints", 1).containsEntry("heldLocks", 1)
              .containsEntry("leaderships", 0).containsEntry("registered", true).doesNotContainKey("error");

          try (io.giftkit.coord.Leadership leading = context.getBean(EtcdElections.class)
              .campaign("settlement-runner", "10.0.0.7:8080", Duration.ofSeconds(2)).orElseThrow()) {
            assertThat(meters.get("giftkit.coord.leaderships.held").gauge().value()).isEqualTo(1);
            Map<String, Object> withLeader = (Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit()
                .get("coord");
            assertThat((List<Map<String, Object>>) withLeader.get("leaderships")).singleElement()
                .satisfies(l -> assertThat(l).containsEntry("election", "settlement-runner")
                    .containsEntry("value", "10.0.0.7:8080").containsEntry("token", leading.token())
                    .containsEntry("leader", true));
            assertThat(context.getBean("giftkitCoordHealthIndicator", HealthIndicator.class).health().getDetails())
                .containsEntry("leaderships", 1);
          }
          assertThat(meters.get("giftkit.coord.leaderships.held").gauge().value()).isZero();

          lock.close();
          assertThat(meters.get("giftkit.coord.lock.hold").functionTimer().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.coord.lock.hold").functionTimer().totalTime(TimeUnit.NANOSECONDS))
              .isPositive();
          assertThat(meters.get("giftkit.coord.locks.held").gauge().value()).isZero();
          assertThat(meters.get("giftkit.coord.lease.losses").tags("kind", "lock").functionCounter().count()).isZero();
          assertThat(meters.get("giftkit.coord.lease.losses").tags("kind", "registration").functionCounter().count())
              .isZero();
          for (String source : List.of("kv", "elections", "discovery")) {
            assertThat(meters.get("giftkit.coord.watch.errors").tags("source", source).functionCounter().count())
                .isZero();
            assertThat(meters.get("giftkit.coord.watch.reconnects").tags("source", source).functionCounter().count())
                .isZero();
          }
          assertThat((List<?>) ((Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit().get("coord"))
              .get("locks")).isEmpty();

          try (ServiceRegistration other = context.getBean(ServiceRegistry.class)
              .register(ServiceInstance.of("gift-api", "b", "b1", "10.0.1.1:8080", Map.of()))) {
            await().atMost(Duration.ofSeconds(5)).until(() -> meters.get("giftkit.coord.discovery.instances")
                .tags("service", "gift-api", "site", "b").gauge().value() == 1);
            assertThat(meters.get("giftkit.coord.discovery.changes").tags("service", "gift-api").counter().count())
                .isPositive();
            assertThat(giftApi.choose().orElseThrow().site()).as("the local site first").isEqualTo(Site.of("a"));
          }
        });
    try (Client raw = Client.builder().endpoints(etcd.clientUrl(0)).build()) {
      await().atMost(Duration.ofSeconds(5)).until(() -> raw.getKVClient()
          .get(ByteSequence.from("app1/giftkit/services/gift-api/a/10.0.0.7:8080", StandardCharsets.UTF_8))
          .get(5, TimeUnit.SECONDS).getKvs().isEmpty());
    }
  }

  /**
   * etcd with authentication on (a root user with a password): the starter's client logs in with
   * giftkit.coord.username/password; health is UP; once the member is killed, health is DOWN, its
   * error names the endpoint, and no detail holds the password.
   */
  @Test
  void healthGoesDownNamingTheEndpointWhenTheMemberIsKilledAndNeverShowsThePassword() throws Exception {
    String password = "s3cret-Pa55";
    try (ProcessRegistry own = new ProcessRegistry()) {
      EtcdCluster secured = new EtcdCluster(own, dir.resolve("secured"), 1);
      try {
        secured.start(Duration.ofSeconds(30));
        try (Client admin = Client.builder().endpoints(secured.clientUrl(0)).build()) {
          ByteSequence root = ByteSequence.from("root", StandardCharsets.UTF_8);
          admin.getAuthClient().userAdd(root, ByteSequence.from(password, StandardCharsets.UTF_8))
              .get(5, TimeUnit.SECONDS);
          admin.getAuthClient().userGrantRole(root, root).get(5, TimeUnit.SECONDS);
          admin.getAuthClient().authEnable().get(5, TimeUnit.SECONDS);
        }
        String endpoint = secured.clientUrl(0);
        runner.withPropertyValues("giftkit.coord.endpoints=" + endpoint, "giftkit.coord.username=root",
                "giftkit.coord.password=" + password, "giftkit.coord.timeout=2s")
            .run(context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(GiftkitCoordProperties.class).toString()).doesNotContain(password)
                  .contains("password=******");
              EtcdLocks locks = context.getBean(EtcdLocks.class);
              try (EtcdLock lock = locks.tryLock("authed", Duration.ofSeconds(2)).orElseThrow()) {
                assertThat(lock.fencingToken()).as("the authenticated client could write").isPositive();
              }
              HealthIndicator indicator = context.getBean("giftkitCoordHealthIndicator", HealthIndicator.class);
              assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);

              secured.member(0).kill();
              await().atMost(Duration.ofSeconds(20)).until(() -> indicator.health().getStatus().equals(Status.DOWN));
              Health down = indicator.health();
              assertThat(down.getStatus()).isEqualTo(Status.DOWN);
              assertThat(String.valueOf(down.getDetails().get("error"))).contains(endpoint);
              assertThat(down.getDetails().toString()).doesNotContain(password);
              assertThat(((Map<?, ?>) down.getDetails().get("members")).get(endpoint).toString()).startsWith("DOWN");
            });
      } finally {
        secured.close();
      }
      assertThat(own.survivors()).as("etcd processes left behind").isEmpty();
    }
  }

  @Test
  void offByDefaultAndWithEnabledFalse() {
    runner.run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context).doesNotHaveBean(Client.class).doesNotHaveBean(EtcdLocks.class)
          .doesNotHaveBean(GiftkitServiceResolvers.class).doesNotHaveBean("giftkitCoordHealthIndicator");
    });
    runner.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0), "giftkit.coord.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Client.class)
            .doesNotHaveBean(EtcdLocks.class));
    // an empty value (an environment variable set to "" behind a default) is "not set": off, registration too
    runner.withPropertyValues("giftkit.coord.endpoints=", "giftkit.coord.registration.enabled=true")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Client.class)
            .doesNotHaveBean(ServiceRegistration.class));
    runner.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0)).run(context ->
        assertThat(context).hasNotFailed().hasSingleBean(EtcdLocks.class).doesNotHaveBean(ServiceRegistration.class));
  }

  /** A user's own bean replaces the starter's. */
  @Test
  void backsOffForTheUsersBeans() {
    runner.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0))
        .withBean("myLocks", EtcdLocks.class, () -> EtcdLocks.builder(Client.builder().endpoints(etcd.clientUrl(0))
            .build()).keyPrefix("mine/").build())
        .run(context -> {
          assertThat(context).hasSingleBean(EtcdLocks.class);
          assertThat(context.getBean(EtcdLocks.class)).isSameAs(context.getBean("myLocks"));
        });
  }

  @Test
  void badValuesFailStartNamingThePropertyAndTheValue() {
    String url = etcd.clientUrl(0);
    assertFails(List.of("giftkit.coord.endpoints=127.0.0.1:2379"),
        "giftkit.coord.endpoints[0] must be a URL http://host:port or https://host:port, but was \"127.0.0.1:2379\"");
    assertFails(List.of("giftkit.coord.endpoints=" + url + ",http://etcd-2"),
        "giftkit.coord.endpoints[1] must be a URL http://host:port or https://host:port, but was \"http://etcd-2\"");
    assertFails(List.of("giftkit.coord.endpoints=http://root:hunter2@127.0.0.1:2379"),
        "giftkit.coord.endpoints[0] must not hold credentials (use giftkit.coord.username and "
            + "giftkit.coord.password), but was a value not shown (it may hold a password)");
    assertFails(List.of("giftkit.coord.endpoints=https://127.0.0.1:2379"),
        "giftkit.coord.endpoints[0] is https:// and needs giftkit.coord.ssl.bundle to be set, but was "
            + "\"https://127.0.0.1:2379\"");
    assertFails(List.of("giftkit.coord.enabled=true"),
        "giftkit.coord.endpoints must be set (http://host:port, …) when giftkit.coord.enabled is true, but was none");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.lease-ttl=0s"),
        "giftkit.coord.lease-ttl must be positive, but was 0ms");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.lease-ttl=1500ms"),
        "giftkit.coord.lease-ttl must be whole seconds, at least 2s, but was 1500ms");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.timeout=-1s"),
        "giftkit.coord.timeout must be positive, but was -1s");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.namespace=app"),
        "giftkit.coord.namespace must be empty or end with '/' (and not start with it), but was \"app\"");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.username=root"),
        "giftkit.coord.password must be set together with giftkit.coord.username, but was none");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.ssl.bundle=etcd"),
        "giftkit.coord.endpoints[0] must be https:// when giftkit.coord.ssl.bundle is set, but was \"" + url + "\"");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.registration.enabled=true",
            "giftkit.coord.registration.service-name=gift-api", "giftkit.coord.registration.address=10.0.0.7:8080"),
        "giftkit.coord.registration.site must be set (or giftkit.site), but was none");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.site=a", "giftkit.coord.registration.enabled=true",
            "giftkit.coord.registration.address=10.0.0.7:8080"),
        "giftkit.coord.registration.service-name must be set (or spring.application.name), but was null");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.site=a", "giftkit.coord.registration.enabled=true",
            "giftkit.coord.registration.service-name=gift-api"),
        "giftkit.coord.registration.address must be set (host:port others reach this instance at), but was null");
    assertFails(List.of("giftkit.coord.endpoints=" + url, "giftkit.coord.max-resolvers=0"),
        "giftkit.coord.max-resolvers must be in [1, 10000], but was 0");
  }

  private void assertFails(List<String> properties, String message) {
    runner.withPropertyValues(properties.toArray(String[]::new)).run(context -> {
      assertThat(context).as(properties.toString()).hasFailed();
      assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
          .as(properties.toString()).isEqualTo(message);
    });
  }

  /**
   * The key-value tier under Redis: a configured cache reads L1, Redis, then etcd; a change or delete in
   * etcd by another client invalidates the cached key (served at once, not after the TTLs); a typed loader
   * reads through the cache's codecs; without GiftkitCaches there is no tier; a bad consistency names
   * the property.
   */
  @Test
  void kvCachesReadEtcdUnderRedisAndAChangeInEtcdInvalidatesTheCachedKey() {
    String run = Long.toHexString(System.nanoTime());
    String ns = "kvtier-" + run + "/";
    String name = "owners" + run; // its own Redis keys too
    ApplicationContextRunner withCaches = runner.withConfiguration(AutoConfigurations.of(
        io.giftkit.boot.cache.GiftkitCacheAutoConfiguration.class));
    withCaches.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0), "giftkit.coord.namespace=" + ns,
            "giftkit.cache.redis-url=" + REDIS.url(), "giftkit.coord.kv-caches." + name + ".key-prefix=owners/",
            "giftkit.coord.kv-caches." + name + ".consistency=serializable", "giftkit.cache.caches." + name + ".l2-ttl=10m",
            "giftkit.cache.caches." + name + ".l1-ttl=10m", "giftkit.cache.caches." + name + ".negative-ttl=10m")
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitKvTier tier = context.getBean(GiftkitKvTier.class);
          io.giftkit.cache.TieredCache<String, String> owners = tier.cache(name);
          try (Client other = Client.builder().endpoints(etcd.clientUrl(0)).build()) {
            ConsistentKv kv = ConsistentKv.builder(other).keyPrefix(ns).build();
            assertThat(owners.get("room-42")).as("absent in etcd").isNull();
            kv.put("owners/room-42", "site-a");
            await().atMost(Duration.ofSeconds(10)).until(() -> "site-a".equals(owners.get("room-42")));
            assertThat(owners.inL1("room-42")).as("cached: L1 (and Redis) hold it for 10 minutes").isTrue();
            kv.put("owners/room-42", "site-b");
            await().atMost(Duration.ofSeconds(10)).until(() -> "site-b".equals(owners.get("room-42")));
            kv.delete("owners/room-42");
            await().atMost(Duration.ofSeconds(10)).until(() -> owners.get("room-42") == null);

            kv.put("rooms/7", "42");
            java.util.function.Function<Long, Long> typed = tier.loader("rooms/",
                io.giftkit.coord.Consistency.LINEARIZABLE, io.giftkit.cache.KeyCodec.longs(),
                io.giftkit.cache.ValueCodec.of(v -> String.valueOf(v).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    b -> Long.parseLong(new String(b, java.nio.charset.StandardCharsets.UTF_8))));
            assertThat(typed.apply(7L)).isEqualTo(42L);
            assertThat(typed.apply(8L)).isNull();
          }
          assertThatThrownBy(() -> tier.cache("nope")).hasMessageContaining("'nope'").hasMessageContaining(name);
        });
    runner.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0), "giftkit.coord.kv-caches.owners.consistency=serializable")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(GiftkitKvTier.class));
    withCaches.withPropertyValues("giftkit.coord.endpoints=" + etcd.clientUrl(0), "giftkit.cache.redis-url=" + REDIS.url(),
            "giftkit.coord.kv-caches.owners.consistency=strong")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
            .hasMessageContaining("strong"));
  }
}
