package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumerTest.header;
import static io.giftkit.mq.GiftkitConsumerTest.kafka;
import static io.giftkit.mq.GiftkitConsumerTest.producer;
import static io.giftkit.mq.GiftkitConsumerTest.readOne;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Retry topics on a real KRaft broker in the test JVM and a real MariaDB. */
class RetryTopicsBrokerTest {

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


  /** One attempt as the handler saw it. */
  record Attempt(String key, String topic, String originalTopic, int failedBefore, long nanos, boolean failed) {}

  /**
   * A record failing twice transiently, then succeeding, flows main -> retry-1 -> retry-2 and is applied
   * once, while the 20 records behind it on its partition are applied without waiting for its retries.
   */
  @Test
  void aRecordFailingTwiceFlowsThroughTwoRetryTopicsAndTheRecordsBehindItDoNotWait() throws Exception {
    String topic = KAFKA.createTopic("retried", 2);
    RetryTopics retryTopics = RetryTopics.delays(Duration.ofMillis(700), Duration.ofMillis(700));
    List<String> created = retryTopics.createTopics(KAFKA.admin(), List.of(topic));
    assertThat(created).containsExactly(topic + ".retry-1", topic + ".retry-2");
    assertThat(retryTopics.createTopics(KAFKA.admin(), List.of(topic))).as("existing ones left alone").isEmpty();
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      Map<String, TopicDescription> described = KAFKA.admin().describeTopics(created).allTopicNames()
          .get(30, TimeUnit.SECONDS);
      assertThat(described.values()).as("the original's partitions").hasSize(2)
          .allSatisfy(d -> assertThat(d.partitions()).hasSize(2));
    });
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));

    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, 0, "slow", "5"));
      for (int i = 1; i <= 20; i++) {
        p.send(new ProducerRecord<>(topic, 0, "order-" + i, "1"));
      }
    }
    List<Attempt> attempts = new CopyOnWriteArrayList<>();
    AtomicInteger slowFailures = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("retry-topics")
        .kafka(kafka("retry-topics-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalHandler(db, GiftkitConsumerTest.STORE, ConsumerRecord::key, (r, c) -> {
          boolean fail = r.key().equals("slow") && slowFailures.get() < 2;
          attempts.add(new Attempt(r.key(), r.topic(), RetryTopics.originalTopic(r), RetryTopics.failedAttempts(r),
              System.nanoTime(), fail));
          apply(r, c); // rolled back (claim included) when the attempt fails
          if (fail) {
            slowFailures.incrementAndGet();
            throw new SQLTransientConnectionException("settlement database switching over");
          }
        })
        .retryTopics(retryTopics).build());

    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.handled() == 21);
    List<Attempt> slow = attempts.stream().filter(a -> a.key().equals("slow")).toList();
    assertThat(slow).extracting(Attempt::topic)
        .containsExactly(topic, topic + ".retry-1", topic + ".retry-2");
    assertThat(slow).extracting(Attempt::originalTopic).containsOnly(topic);
    assertThat(slow).extracting(Attempt::failedBefore).containsExactly(0, 1, 2);
    assertThat(slow).extracting(Attempt::failed).containsExactly(true, true, false);
    for (int i = 1; i < slow.size(); i++) {
      assertThat(slow.get(i).nanos() - slow.get(i - 1).nanos()).as("retry %d not before its 700 ms delay", i)
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(690));
    }
    int slowSucceeded = attempts.indexOf(slow.get(2));
    int slowFirstRetry = attempts.indexOf(slow.get(1));
    List<Attempt> behind = attempts.stream().filter(a -> a.key().startsWith("order-")).toList();
    assertThat(behind).hasSize(20).allSatisfy(a -> {
      assertThat(a.topic()).isEqualTo(topic);
      assertThat(attempts.indexOf(a)).as("%s handled before the slow record's first retry", a.key())
          .isLessThan(slowFirstRetry);
    });
    assertThat(slowSucceeded).isEqualTo(attempts.size() - 1);
    assertThat(GiftkitConsumerTest.ledger(db, topic, "COUNT(*)")).as("21 applied once each").isEqualTo(21);
    assertThat(GiftkitConsumerTest.ledger(db, topic, "SUM(amount)")).isEqualTo(25);
    assertThat(consumer.retryTopicPublishes()).isEqualTo(2);
    assertThat(consumer.retried()).as("nothing retried in place").isZero();
    assertThat(consumer.deadLettered()).isZero();
    await().atMost(Duration.ofSeconds(30)).until(() -> committed("retry-topics-" + topic, new TopicPartition(topic, 0))
        == 21L);
  }

  /**
   * The batch form: a batch that fails is handled one record at a time (as without retry topics); the
   * record that fails on its own moves to retry-1 and is applied there once; the others are applied once.
   */
  @Test
  void aTransactionalBatchHandlerMovesOnlyTheFailingRecordToTheRetryTopic() throws Exception {
    String topic = KAFKA.createTopic("retried-batch", 1);
    RetryTopics retryTopics = RetryTopics.delays(Duration.ofMillis(300));
    retryTopics.createTopics(KAFKA.admin(), List.of(topic));
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 1; i <= 10; i++) {
        p.send(new ProducerRecord<>(topic, 0, i == 4 ? "slow" : "order-" + i, "1"));
      }
    }
    AtomicInteger slowFailures = new AtomicInteger();
    List<String> appliedFrom = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("retry-topics-batch")
        .kafka(kafka("retry-topics-batch-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalBatchHandler(db, GiftkitConsumerTest.STORE, ConsumerRecord::key, (records, c) -> {
          for (ConsumerRecord<String, String> r : records) {
            apply(r, c);
            // fails on the main topic, in the batch (which rolls back) and on its own: then it moves to retry-1
            if (r.key().equals("slow") && r.topic().equals(topic)) {
              slowFailures.incrementAndGet();
              throw new SQLTransientConnectionException("deadlock");
            }
          }
          records.forEach(r -> appliedFrom.add(r.key() + "@" + r.topic()));
        })
        .retryTopics(retryTopics).build());

    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.handled() == 10);
    assertThat(GiftkitConsumerTest.ledger(db, topic, "COUNT(*)")).as("each applied once").isEqualTo(10);
    assertThat(appliedFrom).contains("slow@" + topic + ".retry-1").doesNotContain("slow@" + topic)
        .filteredOn(a -> a.endsWith(".retry-1")).containsExactly("slow@" + topic + ".retry-1");
    assertThat(appliedFrom).filteredOn(a -> a.endsWith("@" + topic)).hasSize(9).doesNotHaveDuplicates();
    assertThat(consumer.retryTopicPublishes()).isEqualTo(1);
    assertThat(consumer.batchFailures()).isPositive();
    assertThat(slowFailures.get()).as("in a batch, then on its own").isGreaterThanOrEqualTo(2);
    assertThat(consumer.deadLettered()).isZero();
  }

  private static void apply(ConsumerRecord<String, String> r, Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (topic, order_id, amount) VALUES (?, ?, ?)")) {
      ps.setString(1, RetryTopics.originalTopic(r));
      ps.setString(2, r.key());
      ps.setLong(3, Long.parseLong(r.value()));
      ps.executeUpdate();
    }
  }

  /**
   * A record that fails on every topic lands on the original topic's DLT after its retries, with
   * headers naming the original topic, partition, offset and the exception; a non-retryable one goes
   * there at once; the site tag travels unchanged.
   */
  @Test
  void exhaustedRetriesLandOnTheOriginalTopicsDltNamingTheOriginalRecord() throws Exception {
    String topic = KAFKA.createTopic("exhausted", 1);
    RetryTopics retryTopics = RetryTopics.delays(Duration.ofMillis(200), Duration.ofMillis(300));
    retryTopics.createTopics(KAFKA.admin(), List.of(topic));
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, 0, "first", "1")).get();
      ProducerRecord<String, String> doomed = new ProducerRecord<>(topic, 0, "doomed", "2");
      doomed.headers().add(SiteHeaders.SITE, "a".getBytes(StandardCharsets.UTF_8));
      p.send(doomed).get();
      p.send(new ProducerRecord<>(topic, 0, "after", "3")).get();
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicInteger doomedAttempts = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("exhausted")
        .kafka(kafka("exhausted-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .handler(r -> {
          if (r.key().equals("doomed")) {
            doomedAttempts.incrementAndGet();
            throw new IllegalStateException("ledger rejects order doomed on " + r.topic());
          }
          handled.add(r.key());
        })
        .retryTopics(retryTopics).build());

    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 1);
    assertThat(handled).containsExactly("first", "after");
    assertThat(doomedAttempts.get()).isEqualTo(3);
    assertThat(consumer.retryTopicPublishes()).isEqualTo(2);
    ConsumerRecord<String, String> dead = readOne(topic + ".DLT");
    assertThat(dead.key()).isEqualTo("doomed");
    assertThat(dead.value()).isEqualTo("2");
    assertThat(header(dead, GiftkitConsumer.DLT_TOPIC)).isEqualTo(topic);
    assertThat(header(dead, GiftkitConsumer.DLT_PARTITION)).isEqualTo("0");
    assertThat(header(dead, GiftkitConsumer.DLT_OFFSET)).isEqualTo("1");
    assertThat(header(dead, GiftkitConsumer.DLT_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
    assertThat(header(dead, GiftkitConsumer.DLT_MESSAGE)).isEqualTo("ledger rejects order doomed on " + topic
        + ".retry-2");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("3");
    assertThat(header(dead, GiftkitConsumer.DLT_SITE)).isEqualTo("a");
    assertThat(header(dead, SiteHeaders.SITE)).isEqualTo("a");
    assertThat(header(dead, RetryTopics.ORIGINAL_TOPIC)).isNull();
    assertThat(readOne(topic + ".retry-2").headers().lastHeader(SiteHeaders.SITE).value())
        .isEqualTo("a".getBytes(StandardCharsets.UTF_8));
  }

  /** A retry topic that does not exist: the record is not committed past; once it exists, the record moves on. */
  @Test
  void aMissingRetryTopicHoldsTheRecordUntilItExists() throws Exception {
    String topic = KAFKA.createTopic("no-retry-topic", 1); // the broker does not create topics by itself
    RetryTopics retryTopics = RetryTopics.delays(Duration.ofMillis(100));
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, 0, "flaky", "1")).get();
      p.send(new ProducerRecord<>(topic, 0, "behind", "2")).get();
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicInteger flakyCalls = new AtomicInteger();
    String group = "no-retry-topic-" + topic;
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("no-retry-topic")
        .kafka(kafka(group)).topics(topic).deadLetterTimeout(Duration.ofSeconds(1))
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .handler(r -> {
          if (r.key().equals("flaky") && flakyCalls.incrementAndGet() == 1) {
            throw new IllegalStateException("first try fails");
          }
          handled.add(r.key() + "@" + r.topic());
        })
        .retryTopics(retryTopics).build());

    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.retryTopicFailures() >= 2);
    assertThat(handled).as("the partition waits on the record").isEmpty();
    assertThat(flakyCalls.get()).as("only the publish is retried").isEqualTo(1);
    assertThat(committed(group, new TopicPartition(topic, 0))).isIn(-1L, 0L);

    assertThat(retryTopics.createTopics(KAFKA.admin(), List.of(topic))).containsExactly(topic + ".retry-1");
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 2);
    assertThat(handled).containsExactly("behind@" + topic, "flaky@" + topic + ".retry-1");
    assertThat(consumer.retryTopicPublishes()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> committed(group, new TopicPartition(topic, 0)) == 2L);
  }

  /** The group's committed offset of {@code tp}, or -1 if none. */
  private static long committed(String group, TopicPartition tp) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = KAFKA.admin().listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    OffsetAndMetadata o = offsets.get(tp);
    return o == null ? -1 : o.offset();
  }
}
