package io.giftkit.boot.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpoint;
import io.giftkit.boot.GiftkitEndpointAutoConfiguration;
import io.giftkit.boot.GiftkitFailureAnalyzer;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.mq.RetryTopics;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckAlert;
import io.giftkit.mq.recheck.RecheckAlertListener;
import io.giftkit.mq.recheck.RecheckHandler;
import io.giftkit.mq.recheck.RecheckResult;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mariadb.jdbc.MariaDbDataSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** giftkit.mq.* and giftkit.recheck.*: a real in-JVM Kafka broker and a real MariaDB. */
class GiftkitMqAutoConfigurationTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final KafkaBroker KAFKA = KafkaBroker.shared();

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class,
          GiftkitMqAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class));

  static DataSource dataSource() throws Exception {
    MariaDbDataSource ds = new MariaDbDataSource(MARIADB.jdbcUrl());
    ds.setUser(MARIADB.user());
    ds.setPassword(MARIADB.password());
    return ds;
  }

  @Test
  void consumersTakeTheirSettingsFromPropertiesAndSpringKafkaAndRunWithTheContext() throws Exception {
    String topic = KAFKA.createTopic("boot-gifts", 2);
    List<String> handled = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("spring.kafka.bootstrap-servers=" + KAFKA.bootstrapServers(),
            "giftkit.site=a", "giftkit.mq.site-filter=local-only",
            "giftkit.mq.defaults.max-attempts=2",
            "giftkit.mq.consumers.settlement.topics=" + topic,
            "giftkit.mq.consumers.settlement.group-id=settlement-" + topic,
            "giftkit.mq.consumers.settlement.concurrency=2",
            "management.endpoints.web.exposure.include=giftkit")
        .run(context -> {
          GiftkitConsumers consumers = context.getBean(GiftkitConsumers.class);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitMqMetrics.class).bindTo(meters);
          consumers.start(); // the runner's context is refreshed, not started: start it as a running application would
          GiftkitConsumer<String, String> settlement = consumers.create("settlement", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer())
              .handler(r -> handled.add(r.key())));
          assertThat(settlement.group()).isEqualTo("settlement-" + topic);
          assertThat(settlement.toString()).contains("concurrency=2");
          assertThat(settlement.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
          try (KafkaProducer<String, String> p = new KafkaProducer<>(
              Map.of("bootstrap.servers", KAFKA.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
              ProducerRecord<String, String> r = new ProducerRecord<>(topic, "k" + i, "v");
              r.headers().add("giftkit-site", (i % 2 == 0 ? "a" : "b").getBytes());
              p.send(r);
            }
          }
          await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 5 && settlement.filtered() == 5);
          assertThat(meters.get("giftkit.mq.records").tags("name", "settlement", "outcome", "handled")
              .functionCounter().count()).isEqualTo(5);
          assertThat(meters.get("giftkit.mq.records").tags("name", "settlement", "outcome", "filtered")
              .functionCounter().count()).isEqualTo(5);
          assertThat(meters.get("giftkit.mq.lag").tags("name", "settlement").gauge().value()).isZero();
          context.getBean(GiftkitMqMetrics.class).refreshPartitions();
          assertThat(meters.find("giftkit.mq.partition.lag").tags("name", "settlement", "topic", topic).gauges())
              .as("one gauge per partition that had records").isNotEmpty()
              .allSatisfy(g -> assertThat(g.value()).isZero());
          @SuppressWarnings("unchecked")
          Map<String, Map<String, Map<String, Object>>> mq =
              (Map<String, Map<String, Map<String, Object>>>) context.getBean(GiftkitEndpoint.class).giftkit().get("mq");
          assertThat(mq.get("consumers").get("settlement")).containsEntry("handled", 5L).containsEntry("filtered", 5L);
          org.springframework.boot.health.contributor.Health health = context.getBean(
              "giftkitConsumersHealthIndicator", org.springframework.boot.health.contributor.HealthIndicator.class).health();
          assertThat(health.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
          assertThat(health.getDetails().get("settlement").toString()).contains("state=RUNNING");
          context.getBean(GiftkitConsumers.class).stop();
          assertThat(settlement.state()).isEqualTo(GiftkitConsumer.State.STOPPED);
          assertThat(context).hasSingleBean(JdbcIdempotencyStore.class);
        });
  }

  /** giftkit.mq.*.retry-topics and sync-commits bind per consumer over the defaults; the consumer moves a failing record to its retry topic; counted in the metrics. */
  @Test
  void retryTopicsComeFromThePropertiesAndAreCounted() throws Exception {
    String topic = KAFKA.createTopic("boot-retry", 1);
    RetryTopics.delays(Duration.ofMillis(200)).createTopics(KAFKA.admin(), List.of(topic));
    List<String> handled = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("spring.kafka.bootstrap-servers=" + KAFKA.bootstrapServers(),
            "giftkit.mq.defaults.retry-topics=1s,10s",
            "giftkit.mq.consumers.settlement.topics=" + topic,
            "giftkit.mq.consumers.settlement.retry-topics=200ms",
            "giftkit.mq.defaults.sync-commits=false",
            "giftkit.mq.consumers.settlement.sync-commits=true",
            "giftkit.mq.consumers.other.topics=t")
        .run(context -> {
          GiftkitConsumers consumers = context.getBean(GiftkitConsumers.class);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitMqMetrics.class).bindTo(meters);
          consumers.start();
          java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
          GiftkitConsumer<String, String> settlement = consumers.create("settlement", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer())
              .handler(r -> {
                if (failed.compareAndSet(false, true)) {
                  throw new IllegalStateException("first attempt fails");
                }
                handled.add(r.topic());
              }));
          GiftkitConsumer<String, String> other = consumers.create("other", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { }));
          assertThat(settlement.retryTopics()).get().extracting(RetryTopics::retryDelays)
              .isEqualTo(List.of(Duration.ofMillis(200)));
          assertThat(settlement.syncCommits()).as("giftkit.mq.consumers.settlement.sync-commits").isTrue();
          assertThat(other.syncCommits()).as("from giftkit.mq.defaults.sync-commits").isFalse();
          assertThat(other.retryTopics()).as("from giftkit.mq.defaults").get().extracting(RetryTopics::retryDelays)
              .isEqualTo(List.of(Duration.ofSeconds(1), Duration.ofSeconds(10)));
          try (KafkaProducer<String, String> p = new KafkaProducer<>(
              Map.of("bootstrap.servers", KAFKA.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>(topic, "k", "v")).get();
          }
          await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 1);
          assertThat(handled).containsExactly(topic + ".retry-1");
          assertThat(meters.get("giftkit.mq.records").tags("name", "settlement", "outcome", "retry_topic")
              .functionCounter().count()).isEqualTo(1);
          consumers.stop();
        });
    runner.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1", "giftkit.mq.consumers.c.topics=t",
        "giftkit.mq.consumers.c.retry-topics=1s,0s").run(context ->
            assertThatThrownBy(() -> context.getBean(GiftkitConsumers.class).<String, String>create("c", b -> b
                .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { })))
                .isInstanceOf(GiftkitPropertyException.class)
                .hasMessage("giftkit.mq.consumers.c.retry-topics[1] must be positive, but was 0ms"));
  }

  /** A poll loop that died waits for its restart: health OUT_OF_SERVICE (not ready), then UP once restarted. */
  @Test
  void aRestartingConsumerIsNotUp() throws Exception {
    String topic = KAFKA.createTopic("boot-restart", 1);
    java.util.concurrent.atomic.AtomicBoolean crashed = new java.util.concurrent.atomic.AtomicBoolean();
    List<String> handled = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("spring.kafka.bootstrap-servers=" + KAFKA.bootstrapServers(),
            "giftkit.mq.consumers.settlement.topics=" + topic,
            "giftkit.mq.consumers.settlement.group-id=settlement-" + topic)
        .run(context -> {
          GiftkitConsumers consumers = context.getBean(GiftkitConsumers.class);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitMqMetrics.class).bindTo(meters);
          consumers.start();
          GiftkitConsumer<String, String> settlement = consumers.create("settlement", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer())
              .restarts(3, Duration.ofSeconds(3), Duration.ofSeconds(3))
              .handler(r -> {
                if (crashed.compareAndSet(false, true)) {
                  throw new InternalError("simulated: the poll loop dies"); // a VirtualMachineError
                }
                handled.add(r.key());
              }));
          try (KafkaProducer<String, String> p = new KafkaProducer<>(
              Map.of("bootstrap.servers", KAFKA.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>(topic, "k1", "v"));
          }
          org.springframework.boot.health.contributor.HealthIndicator indicator = context.getBean(
              "giftkitConsumersHealthIndicator", org.springframework.boot.health.contributor.HealthIndicator.class);
          await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60))
              .until(() -> settlement.state() == GiftkitConsumer.State.RESTARTING);
          org.springframework.boot.health.contributor.Health health = indicator.health();
          assertThat(health.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.OUT_OF_SERVICE);
          assertThat(health.getDetails().get("settlement").toString()).contains("state=RESTARTING")
              .contains("restarts=1").contains("simulated: the poll loop dies");
          assertThat(meters.get("giftkit.mq.restarts").tags("name", "settlement").functionCounter().count()).isEqualTo(1);
          // the dead loop's thread rethrows its InternalError after it reported its death (the state is
          // RESTARTING before the throw): that uncaught throw may land while this waits, and is expected
          await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60)).until(() -> handled.contains("k1"));
          assertThat(settlement.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
          assertThat(indicator.health().getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
          consumers.stop();
        });
  }

  @Test
  void badConsumerSettingsNameTheProperty() {
    runner.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1",
        "giftkit.mq.consumers.settlement.topics=t", "giftkit.mq.consumers.settlement.concurrency=0").run(context -> {
          GiftkitConsumers consumers = context.getBean(GiftkitConsumers.class);
          assertThatThrownBy(() -> consumers.<String, String>create("settlement", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { })))
              .isInstanceOf(GiftkitPropertyException.class)
              .hasMessage("giftkit.mq.consumers.settlement.concurrency must be in [1, 64], but was 0");
        });
    runner.withPropertyValues("giftkit.mq.consumers.x.topics=t").run(context ->
        assertThatThrownBy(() -> context.getBean(GiftkitConsumers.class).create("x", b -> b))
            .hasMessage("giftkit.mq.bootstrap-servers must be set (or spring.kafka.bootstrap-servers) to make"
                + " consumer 'x', but was none"));
    runner.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1", "giftkit.mq.site-filter=local-only")
        .run(context -> assertThatThrownBy(() -> context.getBean(GiftkitConsumers.class).create("x", b -> b))
            .hasMessage("giftkit.mq.site-filter needs giftkit.site to be set, but was LOCAL_ONLY"));
  }

  @Test
  void customizersRunAfterThePropertiesAndBeforeTheCode() {
    List<String> seen = new CopyOnWriteArrayList<>();
    runner.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1", "giftkit.mq.consumers.c.topics=t",
            "giftkit.mq.consumers.c.concurrency=2")
        .withBean(GiftkitConsumerCustomizer.class, () -> (name, b) -> {
          seen.add(name);
          b.concurrency(3);
        })
        .run(context -> {
          GiftkitConsumer<String, String> c = context.getBean(GiftkitConsumers.class).create("c", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { }));
          assertThat(seen).containsExactly("c");
          assertThat(c.toString()).contains("concurrency=3");
        });
  }

  @Configuration(proxyBeanMethods = false)
  static class Rechecks {
    final List<RecheckAlert> alerts = new CopyOnWriteArrayList<>();

    @Bean
    DataSource dataSource() throws Exception {
      return GiftkitMqAutoConfigurationTest.dataSource();
    }

    @Bean
    RecheckHandler paymentRecheck() {
      return (key, attempt) -> key.startsWith("paid-no-order")
          ? RecheckResult.alert("paid, no order") : RecheckResult.resolved();
    }

    @Bean
    RecheckAlertListener alertListener() {
      return alerts::add;
    }
  }

  @Test
  void aRecheckHandlerBeanGetsAStartedDurableRecheckWithMetrics() {
    runner.withUserConfiguration(Rechecks.class)
        .withPropertyValues("giftkit.recheck.name=payments", "giftkit.recheck.poll-interval=50ms",
            "management.endpoints.web.exposure.include=giftkit")
        .run(context -> {
          DelayedRecheck recheck = context.getBean(DelayedRecheck.class);
          assertThat(recheck.state()).isEqualTo(DelayedRecheck.State.RUNNING);
          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean(GiftkitMqMetrics.class).bindTo(meters);
          recheck.schedule("order-1", Duration.ZERO);
          recheck.schedule("paid-no-order-2", Duration.ZERO);
          Rechecks config = context.getBean(Rechecks.class);
          await().atMost(Duration.ofSeconds(20)).until(() -> recheck.resolved() == 1 && config.alerts.size() == 1);
          assertThat(meters.get("giftkit.recheck.checks").tags("name", "payments", "outcome", "resolved")
              .functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.recheck.checks").tags("name", "payments", "outcome", "alerted")
              .functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.recheck.pending").tags("name", "payments").gauge().value()).isZero();
          assertThat(context.getBean(GiftkitEndpoint.class).giftkit().get("mq").toString())
              .contains("payments").contains("paid, no order");
        });
  }

  @Test
  void noRecheckWithoutAHandlerAndABadRecheckSettingFailsStartUp() {
    runner.run(context -> assertThat(context).doesNotHaveBean(DelayedRecheck.class));
    runner.withUserConfiguration(Rechecks.class).withPropertyValues("giftkit.recheck.max-attempts=0").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.recheck.max-attempts must be in [1, 1000], but was 0"));
  }
}
