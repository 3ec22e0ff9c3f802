package io.giftkit.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.boot.breaker.BreakerConfigCustomizer;
import io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration;
import io.giftkit.boot.breaker.GiftkitBreakerMetrics;
import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.LatencyBreaker;
import io.giftkit.core.Site;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

class GiftkitAutoConfigurationTest {

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GiftkitAutoConfiguration.class,
          GiftkitBreakerAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class));

  @Test
  void defaultsGiveARegistryWithTheLibraryDefaultsAndNoSite() {
    runner.run(context -> {
      assertThat(context).hasNotFailed().hasSingleBean(BreakerRegistry.class).doesNotHaveBean(Site.class);
      BreakerConfig config = context.getBean(BreakerRegistry.class).configFor("anything");
      assertThat(config.toString()).isEqualTo(BreakerConfig.ofDefaults().toString());
    });
  }

  @Test
  void siteComesFromTheProperty() {
    runner.withPropertyValues("giftkit.site=sh-2").run(context ->
        assertThat(context.getBean(Site.class)).isEqualTo(Site.of("sh-2")));
  }

  @Test
  void instancesInheritTheDefaults() {
    runner.withPropertyValues(
            "giftkit.breaker.defaults.timeout=80ms",
            "giftkit.breaker.defaults.minimum-calls=30",
            "giftkit.breaker.instances.privileged.failure-rate-threshold=25",
            "giftkit.breaker.instances.privileged.slow-call-duration-threshold=40ms",
            "giftkit.breaker.instances.privileged.slow-call-rate-threshold=60",
            "giftkit.breaker.instances.privileged.window=20s",
            "giftkit.breaker.instances.payment.open-duration=30s")
        .run(context -> {
          BreakerRegistry registry = context.getBean(BreakerRegistry.class);
          BreakerConfig privileged = registry.configFor("privileged");
          assertThat(privileged.failureRateThreshold()).isEqualTo(25);
          assertThat(privileged.timeout()).isEqualTo(Duration.ofMillis(80));
          assertThat(privileged.minimumCalls()).isEqualTo(30);
          assertThat(privileged.slowCallDurationThreshold()).isEqualTo(Duration.ofMillis(40));
          assertThat(privileged.slowCallRateThreshold()).isEqualTo(60);
          assertThat(privileged.window()).isEqualTo(Duration.ofSeconds(20));
          assertThat(privileged.windowBuckets()).isEqualTo(10);
          BreakerConfig payment = registry.configFor("payment");
          assertThat(payment.openDuration()).isEqualTo(Duration.ofSeconds(30));
          assertThat(payment.failureRateThreshold()).isEqualTo(50);
          LatencyBreaker<String> breaker = registry.latencyBreaker("privileged", "none");
          assertThat(breaker.circuitBreaker().config().timeout()).isEqualTo(Duration.ofMillis(80));
        });
  }

  @Test
  void aBadInstanceValueFailsStartUpNamingTheProperty() {
    runner.withPropertyValues("giftkit.breaker.instances.privileged.failure-rate-threshold=150").run(context -> {
      assertThat(context).hasFailed();
      FailureAnalysis analysis = new GiftkitFailureAnalyzer().analyze(context.getStartupFailure());
      assertThat(analysis).isNotNull();
      assertThat(analysis.getDescription()).isEqualTo(
          "giftkit.breaker.instances.privileged.failure-rate-threshold must be in (0, 100], but was 150.0");
      assertThat(analysis.getAction()).contains("giftkit.breaker.instances.privileged.failure-rate-threshold");
    });
  }

  @Test
  void crossFieldRulesNameTheInstance() {
    runner.withPropertyValues("giftkit.breaker.defaults.window=10s", "giftkit.breaker.defaults.window-buckets=3")
        .run(context -> assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .isEqualTo("giftkit.breaker.defaults.window-buckets must divide window (10s) into equal"
                + " whole-nanosecond buckets, but was 3"));
    runner.withPropertyValues("giftkit.breaker.instances.x.timeout=-5ms")
        .run(context -> assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .isEqualTo("giftkit.breaker.instances.x.timeout must be positive, but was -5ms"));
    runner.withPropertyValues("giftkit.breaker.max-breakers=0")
        .run(context -> assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .isEqualTo("giftkit.breaker.max-breakers must be in [1, 1000000], but was 0"));
  }

  @Test
  void aBadSiteFailsStartUpNamingTheProperty() {
    runner.withPropertyValues("giftkit.site=Site A").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .isEqualTo("giftkit.site must be 1 to 32 characters of a-z, 0-9, '-' or '_', starting with a letter"
                + " or digit, but was \"Site A\""));
  }

  @Test
  void customizersRunInOrderAfterTheProperties() {
    runner.withPropertyValues("giftkit.breaker.instances.privileged.half-open-probes=3")
        .withUserConfiguration(Customizers.class)
        .run(context -> {
          BreakerRegistry registry = context.getBean(BreakerRegistry.class);
          assertThat(registry.configFor("privileged").halfOpenProbes()).as("the last customizer wins").isEqualTo(4);
          assertThat(context.getBean(Customizers.class).calls).containsExactly("first:null", "second:null",
              "first:privileged", "second:privileged");
        });
  }

  @Test
  void backsOffFromAUserRegistry() {
    runner.withUserConfiguration(UserRegistry.class).run(context -> {
      assertThat(context).hasSingleBean(BreakerRegistry.class);
      assertThat(context.getBean(BreakerRegistry.class).configFor("x").timeout()).isEqualTo(Duration.ofSeconds(3));
    });
  }

  @Test
  void metricsFollowEveryBreaker() {
    runner.run(context -> {
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      context.getBean(GiftkitBreakerMetrics.class).bindTo(meters);
      BreakerRegistry registry = context.getBean(BreakerRegistry.class);
      LatencyBreaker<String> breaker = registry.latencyBreaker("privileged", "default");
      breaker.call("uid", () -> "fresh");
      breaker.call("uid", () -> {
        throw new IllegalStateException("down");
      });
      assertThat(meters.get("giftkit.breaker.calls").tags("name", "privileged", "outcome", "success")
          .functionCounter().count()).isEqualTo(1);
      assertThat(meters.get("giftkit.breaker.calls").tags("name", "privileged", "outcome", "failure")
          .functionCounter().count()).isEqualTo(1);
      assertThat(meters.get("giftkit.breaker.fallbacks").tags("name", "privileged", "source", "cached")
          .functionCounter().count()).isEqualTo(1);
      assertThat(meters.get("giftkit.breaker.state").tags("name", "privileged", "state", "closed").gauge().value())
          .isEqualTo(1);
      assertThat(meters.get("giftkit.breaker.failure.ratio").tags("name", "privileged").gauge().value())
          .as("a ratio 0-1, not percent").isEqualTo(0.5);
    });
  }

  @Test
  @SuppressWarnings("unchecked")
  void theEndpointIsReadOnlyUnlessWriteOperationsAreEnabled() {
    runner.withPropertyValues("giftkit.site=a", "management.endpoints.web.exposure.include=giftkit").run(context -> {
      context.getBean(BreakerRegistry.class).latencyBreaker("privileged", "none").call("uid", () -> "fresh");
      GiftkitEndpoint endpoint = context.getBean(GiftkitEndpoint.class);
      assertThat(endpoint).as("no operation that changes state").isNotInstanceOf(GiftkitWritableEndpoint.class);
      assertThat(java.util.Arrays.stream(endpoint.getClass().getMethods())
          .filter(m -> m.isAnnotationPresent(org.springframework.boot.actuate.endpoint.annotation.WriteOperation.class)
              || m.isAnnotationPresent(org.springframework.boot.actuate.endpoint.annotation.DeleteOperation.class)))
          .isEmpty();
      assertThat(endpoint.breaker("privileged")).containsEntry("state", "CLOSED");
    });
  }

  @Test
  @SuppressWarnings("unchecked")
  void theEndpointShowsSiteAndBreakers() {
    runner.withPropertyValues("giftkit.site=a", "management.endpoints.web.exposure.include=giftkit",
        "giftkit.endpoint.write-operations-enabled=true").run(context -> {
      BreakerRegistry registry = context.getBean(BreakerRegistry.class);
      registry.latencyBreaker("privileged", "none").call("uid", () -> "fresh");
      GiftkitWritableEndpoint endpoint = context.getBean(GiftkitWritableEndpoint.class);
      Map<String, Object> body = endpoint.giftkit();
      assertThat(body).containsEntry("site", "a");
      Map<String, Object> privileged = ((Map<String, Map<String, Object>>) body.get("breakers")).get("privileged");
      assertThat(privileged).containsEntry("state", "CLOSED").containsEntry("callsInWindow", 1L);
      assertThat(endpoint.breaker("privileged")).isEqualTo(privileged);
      assertThat(endpoint.breaker("nope")).isNull();
      assertThat(endpoint.setBreakerState("privileged", "open")).containsEntry("state", "OPEN");
      assertThat(registry.latencyBreaker("privileged", "none").call("uid", () -> "fresh").isFresh())
          .as("forced open: the fallback answers").isFalse();
      assertThat(endpoint.setBreakerState("privileged", "closed")).containsEntry("state", "CLOSED");
      assertThat(endpoint.setBreakerState("nope", "open")).isNull();
      assertThatThrownBy(() -> endpoint.setBreakerState("privileged", "ajar"))
          .hasMessage("state must be 'open' or 'closed', but was 'ajar'");
    });
  }

  @Test
  void propertiesHaveIdeMetadataWithDescriptions() throws IOException {
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("metadata written by the configuration processor").isNotNull();
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(json).contains("\"name\": \"giftkit.breaker.defaults.failure-rate-threshold\"")
          .contains("\"name\": \"giftkit.site\"")
          .contains("Failure rate, in percent of the calls in the window")
          .contains("\"name\": \"giftkit.recheck.max-attempts\"").contains("\"name\": \"giftkit.shard.ddl\"")
          .contains("\"name\": \"giftkit.shard.max-replica-lag\"").contains("\"name\": \"giftkit.shard.read-your-writes\"")
          .contains("WEAK reads skip a replica whose lag is over this bound")
          .contains("\"name\": \"giftkit.cache.redis-url\"").contains("\"name\": \"giftkit.mq.site-filter\"")
          .contains("\"name\": \"giftkit.mq.defaults.max-processing-time\"")
          .contains("\"name\": \"giftkit.mq.defaults.retry-topics\"")
          .contains("Non-blocking retry topics");
    }
  }

  @Test
  void everyModuleStaysOffWhenItsClassesAreMissingAndBacksOffForAUserBean() {
    ApplicationContextRunner all = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
        GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class,
        io.giftkit.boot.shard.GiftkitShardAutoConfiguration.class, io.giftkit.boot.cache.GiftkitCacheAutoConfiguration.class,
        io.giftkit.boot.mq.GiftkitMqAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class))
        .withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x");
    all.run(context -> assertThat(context).hasSingleBean(BreakerRegistry.class)
        .hasSingleBean(io.giftkit.boot.cache.GiftkitCaches.class).hasSingleBean(io.giftkit.boot.mq.GiftkitConsumers.class)
        .hasSingleBean(io.giftkit.shard.ShardedJdbc.class));
    all.withClassLoader(new org.springframework.boot.test.context.FilteredClassLoader(BreakerRegistry.class,
            io.giftkit.cache.TieredCache.class, io.giftkit.mq.GiftkitConsumer.class, io.giftkit.shard.ShardedJdbc.class))
        .run(context -> assertThat(context).doesNotHaveBean(BreakerRegistry.class)
            .doesNotHaveBean(io.giftkit.boot.cache.GiftkitCaches.class)
            .doesNotHaveBean(io.giftkit.boot.mq.GiftkitConsumers.class)
            .doesNotHaveBean(io.giftkit.shard.ShardedJdbc.class));
    all.withBean(io.giftkit.mq.JdbcIdempotencyStore.class, () -> new io.giftkit.mq.JdbcIdempotencyStore("mine"))
        .run(context -> assertThat(context.getBean(io.giftkit.mq.JdbcIdempotencyStore.class).table()).isEqualTo("mine"));
  }

  /**
   * A module left out as the README says (its jar excluded, here its classes hidden): the context
   * starts and the endpoint, with its write operations on, serves the other modules' parts.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"io.giftkit.breaker, breakers", "io.giftkit.cache, caches",
      "io.giftkit.mq, mq", "io.giftkit.shard, shards", "io.giftkit.coord, coord"})
  void theEndpointServesWhenAModuleIsLeftOut(String modulePackage, String key) {
    new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
            GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class,
            io.giftkit.boot.shard.GiftkitShardAutoConfiguration.class,
            io.giftkit.boot.cache.GiftkitCacheAutoConfiguration.class,
            io.giftkit.boot.mq.GiftkitMqAutoConfiguration.class,
            io.giftkit.boot.coord.GiftkitCoordAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class))
        .withPropertyValues("giftkit.site=a", "management.endpoints.web.exposure.include=giftkit",
            "giftkit.endpoint.write-operations-enabled=true",
            "giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
            "giftkit.coord.endpoints=http://127.0.0.1:1") // the coord beans connect lazily: no etcd needed
        .withClassLoader(new org.springframework.boot.test.context.FilteredClassLoader(modulePackage))
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(GiftkitWritableEndpoint.class);
          GiftkitWritableEndpoint endpoint = context.getBean(GiftkitWritableEndpoint.class);
          Map<String, Object> body = endpoint.giftkit();
          assertThat(body).containsEntry("site", "a").doesNotContainKey(key);
          java.util.Set<String> others = new java.util.HashSet<>(List.of("breakers", "caches", "mq", "shards", "coord"));
          others.remove(key);
          assertThat(body).containsKeys(others.toArray(String[]::new));
          assertThat(endpoint.breaker("nope")).isNull();
          assertThat(endpoint.clearHotKey("rooms", "42")).containsEntry("cleared", false);
        });
  }

  @Test
  void autoConfigurationsAreRegistered() throws IOException {
    try (InputStream in = getClass().getResourceAsStream(
        "/META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports")) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList()).containsExactly(
          GiftkitAutoConfiguration.class.getName(), GiftkitBreakerAutoConfiguration.class.getName(),
          io.giftkit.boot.shard.GiftkitShardAutoConfiguration.class.getName(),
          io.giftkit.boot.cache.GiftkitCacheAutoConfiguration.class.getName(),
          io.giftkit.boot.mq.GiftkitMqAutoConfiguration.class.getName(),
          io.giftkit.boot.coord.GiftkitCoordAutoConfiguration.class.getName(),
          GiftkitEndpointAutoConfiguration.class.getName());
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Customizers {
    final List<String> calls = new ArrayList<>();

    @Bean
    @Order(2)
    BreakerConfigCustomizer second() {
      return (name, builder) -> {
        calls.add("second:" + name);
        if (name != null) {
          builder.halfOpenProbes(4);
        }
      };
    }

    @Bean
    @Order(1)
    BreakerConfigCustomizer first() {
      return (name, builder) -> {
        calls.add("first:" + name);
        if (name != null) {
          builder.halfOpenProbes(99);
        }
      };
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class UserRegistry {
    @Bean
    BreakerRegistry myRegistry() {
      return BreakerRegistry.of(BreakerConfig.builder().timeout(Duration.ofSeconds(3)).build());
    }
  }
}
