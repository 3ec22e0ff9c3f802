package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Retry classification on a real KRaft broker in the test JVM and a real MariaDB. */
class RetryClassificationTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final KafkaBroker KAFKA = GiftkitConsumerTest.KAFKA;
  static HikariDataSource db;
  @RegisterExtension final RunningConsumers running = new RunningConsumers();

  @BeforeAll
  static void database() throws SQLException {
    db = TestPools.pool(MARIADB, 4);
    GiftkitConsumerTest.createTables(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }


  private String topicWithDlt(String name, String... keys) {
    String topic = KAFKA.createTopic(name, 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = GiftkitConsumerTest.producer()) {
      for (String k : keys) {
        p.send(new ProducerRecord<>(topic, k, "5"));
      }
    }
    return topic;
  }

  /**
   * A deadlock lasting 2 s — longer than the old budget of 3 attempts 200 ms and 400 ms apart — is
   * retried, then applied once in the ledger; nothing is dead-lettered.
   */
  @Test
  void aTransientFailureLongerThanTheOldRetryBudgetIsRetriedNotDeadLettered() throws Exception {
    String topic = topicWithDlt("transient", "order-1", "order-2");
    AtomicLong firstTry = new AtomicLong();
    AtomicInteger tries = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("transient")
        .kafka(GiftkitConsumerTest.kafka("transient-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(3, Duration.ofMillis(200)) // the defaults: 3 attempts would have dead-lettered it after 0.6 s
        .transactionalHandler(db, GiftkitConsumerTest.STORE, ConsumerRecord::key, (r, c) -> {
          if (r.key().equals("order-1")) {
            tries.incrementAndGet();
            firstTry.compareAndSet(0, System.nanoTime());
            if (System.nanoTime() - firstTry.get() < Duration.ofSeconds(2).toNanos()) {
              throw new SQLTransactionRollbackException("Deadlock found when trying to get lock", "40001", 1213);
            }
          }
          GiftkitConsumerTest.applyToLedger(r, c);
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.handled() == 2);
    assertThat(GiftkitConsumerTest.ledger(db, topic, "COUNT(*)")).isEqualTo(2);
    assertThat(consumer.deadLettered()).isZero();
    assertThat(tries.get()).as("more attempts than maxAttempts: the time budget decides").isGreaterThan(3);
    assertThat(consumer.retried()).isEqualTo(tries.get() - 1);
  }

  /** A transient failure that outlasts the retry budget is dead-lettered once the budget is spent. */
  @Test
  void aTransientFailureThatOutlastsTheBudgetIsDeadLettered() {
    String topic = topicWithDlt("budget", "stuck", "next");
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicLong firstTry = new AtomicLong();
    AtomicLong lastTry = new AtomicLong();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("budget")
        .kafka(GiftkitConsumerTest.kafka("budget-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(3, Duration.ofMillis(100)).retryBudget(Duration.ofMillis(1_500))
        .handler(r -> {
          if (r.key().equals("stuck")) {
            firstTry.compareAndSet(0, System.nanoTime());
            lastTry.set(System.nanoTime());
            throw new SQLException("The MySQL server is running with the --read-only option", "HY000", 1290);
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 1 && handled.size() == 1);
    assertThat(Duration.ofNanos(lastTry.get() - firstTry.get())).isBetween(Duration.ofMillis(1_400), Duration.ofSeconds(5));
    ConsumerRecord<String, String> dead = GiftkitConsumerTest.readOne(topic + ".DLT");
    assertThat(dead.key()).isEqualTo("stuck");
    assertThat(Integer.parseInt(GiftkitConsumerTest.header(dead, GiftkitConsumer.DLT_ATTEMPTS))).isGreaterThan(3);
  }

  /** A validation error and a user-declared non-retryable failure go to the DLT after one attempt. */
  @Test
  void nonRetryableFailuresAreDeadLetteredOnTheFirstFailure() {
    String topic = topicWithDlt("non-retryable", "invalid", "refused", "fine");
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicInteger tries = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("non-retryable")
        .kafka(GiftkitConsumerTest.kafka("non-retryable-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(5, Duration.ofMillis(20))
        .nonRetryable(UnsupportedOperationException.class)
        .handler(r -> {
          if (r.key().equals("invalid")) {
            tries.incrementAndGet();
            throw new IllegalArgumentException("amount must be positive, but was -5");
          }
          if (r.key().equals("refused")) {
            tries.incrementAndGet();
            throw new IllegalStateException("settlement refused", new UnsupportedOperationException("gift kind retired"));
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 2 && handled.size() == 1);
    assertThat(tries).hasValue(2);
    assertThat(consumer.retried()).isZero();
    ConsumerRecord<String, String> dead = GiftkitConsumerTest.readOne(topic + ".DLT");
    assertThat(GiftkitConsumerTest.header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("1");
  }

}
