package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumerTest.ledger;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.process.KafkaProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker dies ({@code SIGKILL}) in the middle of consumption and comes back on the same data: the
 * consumer loses nothing, applies every record exactly once and carries on without being restarted by
 * the application. The broker is its own OS process ({@link KafkaProcess}, Kafka's server artifacts
 * from the test classpath); every process started is killed at the end, whatever happens.
 */
class BrokerRestartTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static HikariDataSource db;

  @BeforeAll
  static void database() throws SQLException {
    db = TestPools.pool(MARIADB, 4);
    GiftkitConsumerTest.createTables(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }

  private static void send(String bootstrap, String topic, int from, int to) {
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        bootstrap, ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
      for (int i = from; i < to; i++) {
        p.send(new ProducerRecord<>(topic, "order-" + i, Integer.toString(i % 7 + 1)));
      }
    }
  }

  @Test
  void aBrokerKilledMidConsumptionLosesNothingAndTheConsumerResumesByItself(@TempDir Path dir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    String topic = "restart-gifts";
    int n = 600;
    int m = 200;
    try (ProcessRegistry registry = new ProcessRegistry();
        KafkaProcess kafka = new KafkaProcess(registry, dir.resolve("kafka"), java, classpath, 3)) {
      kafka.start(Duration.ofSeconds(90));
      kafka.createTopics(List.of(topic), 3);
      send(kafka.bootstrapServers(), topic, 0, n);

      AtomicInteger applied = new AtomicInteger();
      CountDownLatch halfway = new CountDownLatch(1);
      CountDownLatch brokerKilled = new CountDownLatch(1);
      GiftkitConsumer<String, String> consumer = GiftkitConsumer.<String, String>builder("restart")
          .kafka(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
              ConsumerConfig.GROUP_ID_CONFIG, "restart-settlement", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20,
              ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500))
          .topics(topic).deserializers(new StringDeserializer(), new StringDeserializer())
          .transactionalBatchHandler(db, GiftkitConsumerTest.STORE, ConsumerRecord::key, (records, c) -> {
            if (applied.get() >= n / 2 && halfway.getCount() > 0) {
              halfway.countDown();
              // the broker is killed while this batch is in hand: its commit cannot reach the broker
              assertThat(brokerKilled.await(30, TimeUnit.SECONDS)).isTrue();
            }
            for (ConsumerRecord<String, String> r : records) {
              GiftkitConsumerTest.applyToLedger(r, c);
            }
            applied.addAndGet(records.size());
          }).build();
      try {
        consumer.start();
        assertThat(halfway.await(90, TimeUnit.SECONDS)).as("consumption reached the middle").isTrue();
        kafka.kill();
        brokerKilled.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> consumer.handled() >= n / 2);

        kafka.start(Duration.ofSeconds(90)); // same data directory, same ports
        send(kafka.bootstrapServers(), topic, n, n + m);
        await().atMost(Duration.ofSeconds(120)).until(() -> ledger(db, topic, "COUNT(*)") >= n + m
            && consumer.lag().stream().allMatch(l -> l.lag() == 0));
        assertThat(ledger(db, topic, "COUNT(*)")).as("nothing lost, nothing applied twice").isEqualTo(n + m);
        assertThat(ledger(db, topic, "COUNT(DISTINCT order_id)")).isEqualTo(n + m);
        assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
        assertThat(consumer.restarts()).as("resumed by itself, no restart").isZero();
      } finally {
        consumer.close(); // while the broker is alive, so the final commit does not wait for it
      }
      assertThat(kafka.process().isAlive()).isTrue();
    } // the registry kills every process it started, also when the test failed
  }
}
