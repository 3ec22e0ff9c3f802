package io.giftkit.boot.mq;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.mq.LagListener;
import io.giftkit.mq.PartitionLag;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckAlertListener;
import io.giftkit.mq.recheck.RecheckHandler;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Managed Kafka consumers ({@link GiftkitConsumers}, from {@code giftkit.mq.*} over Boot's Kafka
 * settings, see {@link GiftkitKafkaClients}), the {@link JdbcIdempotencyStore}, with Lettuce and the
 * caches' {@code GiftkitRedisConnection} a lazy {@code RedisIdempotencyStore} on the same Redis
 * settings (Boot's: standalone, Sentinel or Cluster, ACL user, SSL), and, when a
 * {@link RecheckHandler} bean and a {@link DataSource} exist, the {@link DelayedRecheck} from
 * {@code giftkit.recheck.*}; with Micrometer, their metrics; with the endpoint, their state.
 */
@AutoConfiguration(after = GiftkitAutoConfiguration.class,
    afterName = {"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration",
        "io.giftkit.boot.cache.GiftkitCacheAutoConfiguration"})
@ConditionalOnClass(GiftkitConsumer.class)
@EnableConfigurationProperties({GiftkitMqProperties.class, GiftkitRecheckProperties.class})
public final class GiftkitMqAutoConfiguration {

  /**
   * Boot's Kafka settings, when Boot's Kafka support is present: every {@code spring.kafka.*} setting
   * (security, SSL bundles, SASL through {@code properties.*}) reaches GiftKit's clients.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.kafka.autoconfigure.KafkaProperties")
  @ConditionalOnBean(type = {"org.springframework.boot.kafka.autoconfigure.KafkaProperties",
      "org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails"})
  static class BootKafkaConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitKafkaClients giftkitKafkaClients(GiftkitMqProperties properties,
        org.springframework.boot.kafka.autoconfigure.KafkaProperties kafka,
        org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails details) {
      return BootKafkaClients.of(kafka, details).withBootstrapServers(properties.getBootstrapServers());
    }
  }

  /** Without Boot's Kafka support: the servers of {@code giftkit.mq.bootstrap-servers} or {@code spring.kafka.*}. */
  @Bean
  @ConditionalOnMissingBean
  GiftkitKafkaClients giftkitKafkaClients(GiftkitMqProperties properties, Environment environment) {
    List<String> servers = properties.getBootstrapServers();
    Binder binder = Binder.get(environment);
    if (servers.isEmpty()) {
      servers = binder.bind("spring.kafka.bootstrap-servers", Bindable.listOf(String.class)).orElse(List.of());
    }
    if (servers.isEmpty()) {
      servers = binder.bind("spring.kafka.consumer.bootstrap-servers", Bindable.listOf(String.class))
          .orElse(List.of());
    }
    return GiftkitKafkaClients.ofBootstrapServers(servers);
  }

  @Bean
  @ConditionalOnMissingBean
  GiftkitConsumers giftkitConsumers(GiftkitMqProperties properties, GiftkitKafkaClients clients,
      ObjectProvider<Site> site, ObjectProvider<LagListener> lagListeners,
      ObjectProvider<GiftkitConsumerCustomizer> customizers) {
    return new GiftkitConsumers(properties, clients, site.getIfAvailable(), lagListeners.orderedStream().toList(),
        customizers.orderedStream().toList());
  }

  /**
   * A {@code RedisIdempotencyStore} (defaults: prefix {@code giftkit:idem:}, lease 2 min, done keys
   * kept 7 days, 1 s timeout) on the caches' Redis settings ({@code GiftkitRedisConnection}: Boot's
   * {@code spring.data.redis.*}, a Cluster included). Lazy: its client and connection are made when
   * the store is first injected or looked up, not before; Redis must answer then.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.lettuce.core.RedisClient")
  @ConditionalOnBean(type = "io.giftkit.boot.cache.GiftkitRedisConnection")
  static class RedisStoreConfiguration {

    @Bean
    @org.springframework.context.annotation.Lazy
    @ConditionalOnMissingBean
    RedisStoreConnection giftkitRedisStoreConnection(io.giftkit.boot.cache.GiftkitRedisConnection settings) {
      return new RedisStoreConnection(settings);
    }

    @Bean
    @org.springframework.context.annotation.Lazy
    @ConditionalOnMissingBean
    io.giftkit.mq.RedisIdempotencyStore giftkitRedisIdempotencyStore(RedisStoreConnection connection) {
      return connection.store();
    }
  }

  @Bean
  @ConditionalOnMissingBean
  JdbcIdempotencyStore giftkitIdempotencyStore(GiftkitMqProperties properties) {
    try {
      return new JdbcIdempotencyStore(properties.getIdempotencyTable());
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.invalid("giftkit.mq.idempotency-table", e.rule(), e.value());
    }
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean({RecheckHandler.class, DataSource.class})
  DelayedRecheck giftkitRecheck(GiftkitRecheckProperties p, DataSource dataSource, RecheckHandler handler,
      ObjectProvider<RecheckAlertListener> alertListeners, ObjectProvider<DelayedRecheckCustomizer> customizers)
      throws SQLException {
    DelayedRecheck recheck;
    try {
      DelayedRecheck.Builder b = DelayedRecheck.builder(p.getName(), dataSource).handler(handler).table(p.getTable())
          .maxAttempts(p.getMaxAttempts()).retryDelay(p.getRetryDelay()).pollInterval(p.getPollInterval())
          .lease(p.getLease()).batchSize(p.getBatchSize()).concurrency(p.getConcurrency());
      alertListeners.orderedStream().forEach(b::alertListener);
      customizers.orderedStream().forEach(c -> c.customize(b));
      recheck = b.build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of("giftkit.recheck", e);
    }
    if (p.isCreateTable()) {
      recheck.createTable();
    }
    recheck.start(); // closed by the context (close() is its destroy method)
    return recheck;
  }

  @Bean
  GiftkitEndpointContributor giftkitMqEndpointContributor(GiftkitConsumers consumers,
      ObjectProvider<DelayedRecheck> rechecks) {
    return new GiftkitEndpointContributor() {
      @Override
      public String key() {
        return "mq";
      }

      @Override
      public Object describe() {
        Map<String, Object> body = new LinkedHashMap<>();
        Map<String, Object> cs = new LinkedHashMap<>();
        for (GiftkitConsumer<?, ?> c : consumers.all()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("group", c.group());
          m.put("state", c.state().name());
          m.put("handled", c.handled());
          m.put("duplicates", c.duplicates());
          m.put("filtered", c.filtered());
          m.put("deadLettered", c.deadLettered());
          m.put("retried", c.retried());
          m.put("timedOut", c.timeouts());
          List<Map<String, Object>> lag = new ArrayList<>();
          for (PartitionLag l : c.lag()) {
            lag.add(Map.of("partition", l.name(), "lag", l.lag(), "recordAgeMillis", l.recordAgeMillis(),
                "alerting", l.alerting()));
          }
          m.put("lag", lag);
          cs.put(c.name(), m);
        }
        body.put("consumers", cs);
        Map<String, Object> rs = new LinkedHashMap<>();
        rechecks.orderedStream().forEach(r -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("state", r.state().name());
          m.put("resolved", r.resolved());
          m.put("retried", r.retried());
          m.put("alerted", r.alerted());
          try {
            m.put("pending", r.pending());
            m.put("alerts", r.alerts().stream().map(a -> Map.of("key", a.key(), "attempts", a.attempts(),
                "reason", a.reason(), "raisedAt", a.raisedAt().toString())).toList());
          } catch (SQLException e) {
            m.put("error", "database: " + e.getMessage());
          }
          rs.put(r.name(), m);
        });
        body.put("rechecks", rs);
        return body;
      }
    };
  }

  /** Health of the consumers, when Actuator's health is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(org.springframework.boot.health.contributor.HealthIndicator.class)
  static class MqHealthConfiguration {

    /**
     * {@code /actuator/health/giftkitConsumers}: DOWN if a consumer's poll loop died of what a restart
     * cannot fix or its restarts ran out (FAILED, with its cause); OUT_OF_SERVICE while a dead poll loop
     * waits for its restart (RESTARTING, with the cause and the restarts so far): not ready, but not a
     * reason to restart the instance either; lag alerts are shown, not DOWN (restarting a lagging instance does not help it catch up).
     */
    @Bean
    @ConditionalOnMissingBean(name = "giftkitConsumersHealthIndicator")
    org.springframework.boot.health.contributor.HealthIndicator giftkitConsumersHealthIndicator(
        GiftkitConsumers consumers) {
      return () -> {
        org.springframework.boot.health.contributor.Health.Builder h =
            new org.springframework.boot.health.contributor.Health.Builder().up();
        boolean failed = false;
        boolean restarting = false;
        for (GiftkitConsumer<?, ?> c : consumers.all()) {
          Map<String, Object> d = new LinkedHashMap<>();
          d.put("state", c.state().name());
          d.put("alertingPartitions", c.lag().stream().filter(PartitionLag::alerting).map(PartitionLag::name).toList());
          d.put("restarts", c.restarts());
          if (c.state() == GiftkitConsumer.State.FAILED) {
            d.put("failure", String.valueOf(c.failure()));
            failed = true;
          } else if (c.state() == GiftkitConsumer.State.RESTARTING) {
            d.put("failure", String.valueOf(c.failure()));
            restarting = true;
          }
          h.withDetail(c.name(), d);
        }
        if (failed) {
          h.down();
        } else if (restarting) {
          h.outOfService();
        }
        return h.build();
      };
    }
  }

  /** Metrics, when Micrometer is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class MqMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitMqMetrics giftkitMqMetrics(GiftkitConsumers consumers, ObjectProvider<DelayedRecheck> rechecks) {
      return new GiftkitMqMetrics(consumers, rechecks.orderedStream().toList());
    }

    /**
     * The Kafka clients' own metrics through Micrometer's {@code KafkaClientMetrics} ({@code kafka.consumer.*},
     * {@code kafka.producer.*}, tagged with the GiftKit consumer's {@code name}), bound when a poll loop's
     * consumer or the dead-letter producer is created and released when it is closed.
     *
     * @param registry the application's meter registry (used when there is a single or primary one)
     * @return the customizer adding the client listener to every consumer
     */
    @Bean
    GiftkitConsumerCustomizer giftkitKafkaClientMetrics(ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry) {
      return (name, builder) -> {
        io.micrometer.core.instrument.MeterRegistry r = registry.getIfUnique();
        if (r != null) {
          builder.clientListener(new KafkaClientMetricsBinder(r));
        }
      };
    }
  }
}
