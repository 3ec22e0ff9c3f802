package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumerTest.KAFKA;
import static io.giftkit.mq.GiftkitConsumerTest.kafka;
import static io.giftkit.mq.GiftkitConsumerTest.ledger;
import static io.giftkit.mq.GiftkitConsumerTest.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A member evicted from its group for real (the group coordinator removes it while it is in the middle
 * of a batch) rejoins by itself, and the idempotent form applies every record exactly once although
 * the batch it was handling is delivered again. Real broker, real MariaDB.
 *
 * <p>Why not evict it by outliving {@code max.poll.interval.ms}: the consumer cuts a poll's batch so
 * that the next poll always comes in time ({@code budgetCuts()}), and one handler call is bounded by
 * {@code maxProcessingTime}, which must be below the poll interval; a healthy member cannot outlive it
 * any more. The coordinator's other way of evicting a member, {@code removeMembersFromConsumerGroup} on
 * a static member ({@code group.instance.id}), gives the same client-side event: the member's next
 * heartbeat answers {@code UNKNOWN_MEMBER_ID}, its generation is reset, its partitions are lost.
 */
class ConsumerRejoinTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final JdbcIdempotencyStore STORE = GiftkitConsumerTest.STORE;
  static HikariDataSource db;

  private GiftkitConsumer<String, String> consumer;

  @BeforeAll
  static void database() throws SQLException {
    db = TestPools.pool(MARIADB, 4);
    GiftkitConsumerTest.createTables(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }

  @AfterEach
  void stop() {
    if (consumer != null) {
      consumer.close();
    }
  }

  private static void send(String topic, int from, int to) {
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = from; i < to; i++) {
        p.send(new ProducerRecord<>(topic, "order-" + i, Integer.toString(i % 7 + 1)));
      }
    }
  }

  @Test
  void anEvictedMemberRejoinsAndEveryRecordIsAppliedExactlyOnce() throws Exception {
    String topic = KAFKA.createTopic("evicted", 2);
    String group = "evicted-" + topic;
    String instance = "member-" + topic;
    send(topic, 0, 200);
    Map<String, Object> config = new HashMap<>(kafka(group));
    config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instance);
    config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
    config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
    CountDownLatch inFirstBatch = new CountDownLatch(1);
    CountDownLatch evicted = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    consumer = GiftkitConsumer.<String, String>builder("evicted").kafka(config).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalBatchHandler(db, STORE, ConsumerRecord::key, (records, c) -> {
          if (first.getAndSet(false)) {
            inFirstBatch.countDown();
            // the member is removed from its group while it handles this batch (well inside maxProcessingTime)
            assertThat(evicted.await(30, TimeUnit.SECONDS)).isTrue();
          }
          for (ConsumerRecord<String, String> r : records) {
            GiftkitConsumerTest.applyToLedger(r, c);
          }
        }).build();
    consumer.start();
    assertThat(inFirstBatch.await(60, TimeUnit.SECONDS)).as("the first batch reached the handler").isTrue();
    KAFKA.admin().removeMembersFromConsumerGroup(group,
        new RemoveMembersFromConsumerGroupOptions(List.of(new MemberToRemove(instance)))).all().get(30, TimeUnit.SECONDS);
    evicted.countDown();

    await().atMost(Duration.ofSeconds(90)).until(() -> consumer.membershipLosses() > 0);
    send(topic, 200, 300); // after the rejoin: the member carries on
    await().atMost(Duration.ofSeconds(90)).until(() -> ledger(db, topic, "COUNT(*)") >= 300
        && consumer.lag().stream().allMatch(l -> l.lag() == 0));
    assertThat(ledger(db, topic, "COUNT(*)")).isEqualTo(300);
    assertThat(ledger(db, topic, "COUNT(DISTINCT order_id)")).isEqualTo(300);
    assertThat(consumer.duplicates()).as("the evicted batch was not committed: delivered again, deduplicated")
        .isPositive();
    assertThat(consumer.membershipLosses()).isPositive();
    assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
    assertThat(consumer.restarts()).as("rejoined by itself, not restarted").isZero();
  }
}
