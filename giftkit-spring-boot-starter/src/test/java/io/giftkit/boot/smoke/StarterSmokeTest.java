package io.giftkit.boot.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitEndpoint;
import io.giftkit.boot.cache.GiftkitCaches;
import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckHandler;
import io.giftkit.mq.recheck.RecheckResult;
import io.giftkit.shard.ShardedJdbc;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.RedisExtension;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mariadb.jdbc.MariaDbDataSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * One application with every GiftKit module wired from properties, against real MariaDB, Redis and
 * the in-JVM Kafka broker, with Actuator's metrics and health as an application has them.
 */
@SpringBootTest(classes = StarterSmokeTest.App.class)
class StarterSmokeTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static final KafkaBroker KAFKA = KafkaBroker.shared();
  static final String TOPIC = KAFKA.createTopic("smoke-gifts", 2);

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry r) {
    REDIS.start();
    String s0 = MARIADB.createDatabase("smoke0");
    String s1 = MARIADB.createDatabase("smoke1");
    r.add("giftkit.site", () -> "a");
    r.add("giftkit.breaker.instances.privileged.timeout", () -> "50ms");
    r.add("spring.kafka.bootstrap-servers", KAFKA::bootstrapServers);
    r.add("giftkit.mq.site-filter", () -> "local-only");
    r.add("giftkit.mq.consumers.settlement.topics", () -> TOPIC);
    r.add("giftkit.mq.consumers.settlement.max-lag", () -> "1000");
    r.add("giftkit.cache.redis-url", REDIS::url);
    r.add("giftkit.cache.caches.rooms.l1-policy", () -> "hot-only");
    r.add("giftkit.shard.ddl", () -> "CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL)");
    for (int i = 0; i < 2; i++) {
      String db = i == 0 ? s0 : s1;
      r.add("giftkit.shard.nodes[" + i + "].primary.url", () -> MARIADB.jdbcUrl(db));
      r.add("giftkit.shard.nodes[" + i + "].primary.username", MARIADB::user);
      r.add("giftkit.shard.nodes[" + i + "].primary.password", MARIADB::password);
    }
    r.add("giftkit.recheck.poll-interval", () -> "50ms");
    r.add("management.endpoints.web.exposure.include", () -> "giftkit,health");
    r.add("management.endpoint.health.show-details", () -> "always");
  }

  @SpringBootApplication
  static class App {

    @Bean
    DataSource ledger() throws Exception {
      MariaDbDataSource ds = new MariaDbDataSource(MARIADB.jdbcUrl());
      ds.setUser(MARIADB.user());
      ds.setPassword(MARIADB.password());
      try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE IF NOT EXISTS ledger (order_id VARCHAR(64) PRIMARY KEY)");
        new JdbcIdempotencyStore("giftkit_idempotency").createTable(c);
      }
      return ds;
    }

    @Bean
    RecheckHandler recheck() {
      return (key, attempt) -> RecheckResult.resolved();
    }

    @Bean
    GiftkitConsumer<String, String> settlement(GiftkitConsumers consumers, DataSource ledger,
        JdbcIdempotencyStore store) {
      return consumers.create("settlement", b -> b.deserializers(new StringDeserializer(), new StringDeserializer())
          .transactionalBatchHandler(ledger, store, r -> r.key(), (records, c) -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (order_id) VALUES (?)")) {
              for (var r : records) {
                ps.setString(1, r.key());
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }));
    }

    @Bean
    TieredCache<Long, String> rooms(GiftkitCaches caches) {
      return caches.create("rooms", b -> b.keyPrefix(REDIS.key("smoke-rooms")).keys(KeyCodec.longs())
          .values(ValueCodec.utf8()).loader(id -> "room-" + id));
    }
  }

  @Autowired GiftkitConsumer<String, String> settlement;
  @Autowired TieredCache<Long, String> rooms;
  @Autowired ShardedJdbc orders;
  @Autowired DelayedRecheck recheck;
  @Autowired BreakerRegistry breakers;
  @Autowired MeterRegistry meters;
  @Autowired HealthEndpoint health;
  @Autowired GiftkitEndpoint endpoint;

  @Test
  void everyModuleIsWiredObservableAndHealthy() throws Exception {
    assertThat(settlement.state()).as("started with the context").isEqualTo(GiftkitConsumer.State.RUNNING);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
        new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < 20; i++) {
        p.send(new ProducerRecord<>(TOPIC, "order-" + i, "1"));
        p.send(new ProducerRecord<>(TOPIC, "order-" + i, "1")); // every one twice
      }
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> settlement.handled() + settlement.duplicates() == 40);
    assertThat(settlement.handled()).isEqualTo(20);
    assertThat(rooms.get(7L)).isEqualTo("room-7");
    assertThat(orders.insertIfAbsent(3, Instant.now(), "INSERT IGNORE INTO {table} (order_id, uid) VALUES (?, ?)",
        1L, 3L)).isTrue();
    recheck.schedule("order-1", Duration.ZERO);
    await().atMost(Duration.ofSeconds(20)).until(() -> recheck.resolved() == 1);
    breakers.latencyBreaker("privileged", "none").call("uid", () -> "fresh");

    Set<String> names = meters.getMeters().stream().map(m -> m.getId().getName()).collect(Collectors.toSet());
    assertThat(names).contains("giftkit.breaker.calls", "giftkit.breaker.state", "giftkit.mq.records", "giftkit.mq.lag",
        "giftkit.cache.gets", "giftkit.cache.hot.keys", "hikaricp.connections.active", "giftkit.shard.failovers",
        "giftkit.recheck.pending", "giftkit.recheck.checks");
    assertThat(meters.get("giftkit.mq.records").tags("name", "settlement", "outcome", "duplicate")
        .functionCounter().count()).isEqualTo(20);
    assertThat(meters.getMeters()).as("Micrometer's KafkaClientMetrics on the consumer's clients")
        .anyMatch(m -> m.getId().getName().startsWith("kafka.consumer.") && "settlement".equals(m.getId().getTag("name")))
        .anyMatch(m -> m.getId().getName().startsWith("kafka.producer.") && "settlement".equals(m.getId().getTag("name")));

    var components = ((org.springframework.boot.health.actuate.endpoint.CompositeHealthDescriptor) health.health())
        .getComponents();
    assertThat(components).containsKeys("giftkitShards", "giftkitConsumers", "giftkitCaches");
    assertThat(components.get("giftkitShards").getStatus().getCode()).isEqualTo("UP");
    assertThat(components.get("giftkitConsumers").getStatus().getCode()).isEqualTo("UP");

    assertThat(endpoint.giftkit()).containsKeys("site", "breakers", "mq", "caches", "shards");
  }
}
