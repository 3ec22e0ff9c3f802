package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumerTest.KAFKA;
import static io.giftkit.mq.GiftkitConsumerTest.header;
import static io.giftkit.mq.GiftkitConsumerTest.kafka;
import static io.giftkit.mq.GiftkitConsumerTest.ledger;
import static io.giftkit.mq.GiftkitConsumerTest.producer;
import static io.giftkit.mq.GiftkitConsumerTest.readOne;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.RedisExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Batches, concurrency, hanging handlers, lag alerts, oversize dead letters, the Redis store: real broker, MariaDB, Redis. */
class ConsumerScaleAndSafetyTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static final JdbcIdempotencyStore STORE = new JdbcIdempotencyStore("giftkit_idempotency");
  static HikariDataSource db;

  @RegisterExtension final RunningConsumers running = new RunningConsumers();

  @BeforeAll
  static void database() throws SQLException {
    db = TestPools.pool(MARIADB, 6);
    GiftkitConsumerTest.createTables(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }


  private static GiftkitConsumer.Builder<String, String> strings(String name, String group, String topic) {
    return GiftkitConsumer.<String, String>builder(name).kafka(kafka(group)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer());
  }

  private static long sendWithDuplicates(String topic, int orders) {
    long sum = 0;
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < orders; i++) {
        String amount = Integer.toString(i % 7 + 1);
        sum += i % 7 + 1;
        p.send(new ProducerRecord<>(topic, "order-" + i, amount));
        if (i % 10 == 0) {
          p.send(new ProducerRecord<>(topic, "order-" + i, amount)); // a redelivered duplicate
        }
      }
    }
    return sum;
  }

  private static void awaitMembersWithPartitions(String group, int members) {
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      ConsumerGroupDescription d = KAFKA.admin().describeConsumerGroups(List.of(group)).all()
          .get(10, TimeUnit.SECONDS).get(group);
      return d.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty()).count() == members;
    });
  }

  /** Batched claims in one transaction per batch, two consumers sharing four partitions: each order applied once. */
  @Test
  void batchedClaimsWithConcurrencyApplyEachOrderOnce() throws Exception {
    String topic = KAFKA.createTopic("batched", 4);
    String group = "batched-" + topic;
    Set<String> threads = ConcurrentHashMap.newKeySet();
    AtomicInteger largestBatch = new AtomicInteger();
    GiftkitConsumer<String, String> settlement = running.start(strings("batched", group, topic).concurrency(2)
        .transactionalBatchHandler(db, STORE, ConsumerRecord::key, (records, c) -> {
          threads.add(Thread.currentThread().getName());
          largestBatch.accumulateAndGet(records.size(), Math::max);
          for (ConsumerRecord<String, String> r : records) {
            GiftkitConsumerTest.applyToLedger(r, c);
          }
        }).build());
    awaitMembersWithPartitions(group, 2);
    long expectedSum = sendWithDuplicates(topic, 2_000);
    await().atMost(Duration.ofSeconds(90)).until(() -> settlement.handled() + settlement.duplicates() == 2_200);
    assertThat(settlement.duplicates()).isEqualTo(200);
    assertThat(ledger(db, topic, "COUNT(*)")).isEqualTo(2_000);
    assertThat(ledger(db, topic, "COUNT(DISTINCT order_id)")).isEqualTo(2_000);
    assertThat(ledger(db, topic, "SUM(amount)")).isEqualTo(expectedSum);
    assertThat(threads).as("two consumers, each on its own threads").hasSize(2);
    assertThat(largestBatch.get()).as("records arrive in batches").isGreaterThan(1);
    assertThat(settlement.lag()).isNotEmpty().allSatisfy(l -> assertThat(l.lag()).isZero());
  }

  @Test
  void claimAllReturnsOnlyTheNewKeysAndRejectsKeysTooLongToStore() throws Exception {
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      assertThat(STORE.claimAll(c, "g-claims", List.of("a", "b"))).containsExactlyInAnyOrder("a", "b");
      assertThat(STORE.claimAll(c, "g-claims", List.of("a", "b", "c", "d"))).containsExactlyInAnyOrder("c", "d");
      assertThat(STORE.claimAll(c, "g-claims", List.of("a", "d"))).isEmpty();
      assertThat(STORE.claimAll(c, "other-group", List.of("a"))).containsExactly("a");
      assertThatThrownBy(() -> STORE.claimAll(c, "g-claims", List.of("x".repeat(191))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("idempotency key must be 1 to 190 characters, but was 191 characters");
      c.rollback();
    }
  }

  /** A failing batch is handled again one record at a time: only the bad record is retried and dead-lettered. */
  @Test
  void aFailingBatchFallsBackToSingleRecordsSoOnlyTheBadOneIsDeadLettered() throws Exception {
    String topic = KAFKA.createTopic("batch-poison", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 20; i++) {
        p.send(new ProducerRecord<>(topic, i == 7 ? "bad" : "k" + i, "v"));
      }
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(strings("batch-poison", "bp-" + topic, topic)
        .retries(2, Duration.ofMillis(20))
        .batchHandler(records -> {
          for (ConsumerRecord<String, String> r : records) {
            if (r.key().equals("bad")) {
              throw new IllegalStateException("bad record");
            }
          }
          records.forEach(r -> handled.add(r.key()));
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 19 && consumer.deadLettered() == 1);
    assertThat(handled).doesNotContain("bad").doesNotHaveDuplicates();
    assertThat(handled.subList(0, 7)).containsExactly("k0", "k1", "k2", "k3", "k4", "k5", "k6");
    assertThat(consumer.batchFailures()).isPositive();
    assertThat(readOne(topic + ".DLT").key()).isEqualTo("bad");
  }

  /** A handler that hangs is interrupted after the max processing time; the attempt counts as a failure. */
  /**
   * The case that used to kill the consumer: each handler call well inside maxProcessingTime, but a
   * whole poll's batch longer than max.poll.interval.ms. The batch is cut short by time and the rest
   * polled again, so the consumer never leaves its group: every record handled once, still RUNNING.
   */
  @Test
  void aPollBatchLongerThanMaxPollIntervalIsCutShortAndTheConsumerStaysInItsGroup() throws Exception {
    String topic = KAFKA.createTopic("slow-batch", 1);
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 16; i++) {
        p.send(new ProducerRecord<>(topic, "k-" + i, "v"));
      }
    }
    Map<String, Object> config = new java.util.HashMap<>(kafka("slow-" + topic));
    config.put("max.poll.interval.ms", 6_000);
    config.put("max.poll.records", 30);
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("slow").kafka(config)
        .topics(topic).deserializers(new StringDeserializer(), new StringDeserializer())
        .maxProcessingTime(Duration.ofSeconds(2))
        .handler(r -> {
          java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(700).toNanos()); // the work: 0.7 s a record
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= 16);
    assertThat(handled).as("each record once: no eviction, no redelivery").hasSize(16).doesNotHaveDuplicates();
    assertThat(consumer.budgetCuts()).as("16 x 0.7 s exceeds the 6 s poll interval: cut").isPositive();
    assertThat(consumer.membershipLosses()).isZero();
    assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
  }

  @Test
  void aHangingHandlerIsInterruptedAndCountsAsAFailure() throws Exception {
    String topic = KAFKA.createTopic("hanging", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "hang", "v"));
      p.send(new ProducerRecord<>(topic, "next", "v"));
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicInteger interrupted = new AtomicInteger();
    CountDownLatch never = new CountDownLatch(1);
    GiftkitConsumer<String, String> consumer = running.start(strings("hanging", "hang-" + topic, topic)
        .retries(2, Duration.ofMillis(20)).maxProcessingTime(Duration.ofMillis(300))
        .handler(r -> {
          if (r.key().equals("hang")) {
            try {
              never.await();
            } catch (InterruptedException e) {
              interrupted.incrementAndGet();
              throw e;
            }
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 1 && consumer.deadLettered() == 1);
    assertThat(handled).containsExactly("next");
    assertThat(consumer.timeouts()).isEqualTo(2);
    assertThat(interrupted).hasValue(2);
    ConsumerRecord<String, String> dead = readOne(topic + ".DLT");
    assertThat(header(dead, GiftkitConsumer.DLT_MESSAGE)).startsWith("the handler took longer than maxProcessingTime (300 ms)");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("2");
  }

  /** Lag above the threshold for the sustained period raises one alert; catching up raises one recovery. */
  @Test
  void aLagAlertFiresOnceAndClearsOnce() throws Exception {
    String topic = KAFKA.createTopic("lagging", 1);
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 60; i++) {
        p.send(new ProducerRecord<>(topic, "k" + i, "v"));
      }
    }
    List<PartitionLag> alerts = new CopyOnWriteArrayList<>();
    List<PartitionLag> recoveries = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger handled = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(strings("lagging", "lag-" + topic, topic)
        .lagAlert(10, Duration.ofHours(1), Duration.ofMillis(300), new LagListener() {
          @Override
          public void onLagAlert(PartitionLag lag) {
            alerts.add(lag);
          }

          @Override
          public void onLagRecovered(PartitionLag lag) {
            recoveries.add(lag);
          }
        })
        .handler(r -> {
          release.await(); // the first record blocks until the alert was heard
          handled.incrementAndGet();
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> alerts.size() == 1);
    assertThat(alerts.get(0).lag()).isEqualTo(60);
    assertThat(alerts.get(0).alerting()).isTrue();
    assertThat(consumer.lag()).singleElement().satisfies(l -> assertThat(l.alerting()).isTrue());
    assertThat(recoveries).isEmpty();
    release.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> recoveries.size() == 1);
    assertThat(handled).hasValue(60);
    assertThat(recoveries.get(0).lag()).isZero();
    assertThat(alerts).hasSize(1);
    assertThat(consumer.lagAlerts()).isEqualTo(1);
    assertThat(consumer.lag()).singleElement().satisfies(l -> {
      assertThat(l.lag()).isZero();
      assertThat(l.recordAgeMillis()).isZero();
      assertThat(l.alerting()).isFalse();
    });
  }

  /** The oldest waiting record's age alone can raise the alert. */
  @Test
  void aRecordAgeAlertFiresWhenRecordsWaitTooLong() throws Exception {
    String topic = KAFKA.createTopic("aging", 1);
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "k1", "v"));
      p.send(new ProducerRecord<>(topic, "k2", "v"));
    }
    List<PartitionLag> alerts = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    running.start(strings("aging", "age-" + topic, topic)
        .lagAlert(Long.MAX_VALUE, Duration.ofMillis(500), Duration.ZERO, alerts::add)
        .handler(r -> release.await()).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> alerts.size() == 1);
    release.countDown();
    assertThat(alerts.get(0).recordAgeMillis()).isGreaterThan(500);
    assertThat(alerts.get(0).lag()).isEqualTo(2);
  }

  /** A record larger than the dead-letter topic takes is dead-lettered with its value truncated, not lost. */
  @Test
  void aRecordTooLargeForTheDeadLetterTopicIsTruncatedNotLost() throws Exception {
    String topic = KAFKA.createTopic("large", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)
        .configs(Map.of("max.message.bytes", "4000"))));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "big", "x".repeat(20_000)));
      p.send(new ProducerRecord<>(topic, "after", "v"));
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(strings("large", "large-" + topic, topic)
        .retries(1, Duration.ofMillis(10)).deadLetterMaxValueBytes(1_000)
        .handler(r -> {
          if (r.key().equals("big")) {
            throw new IllegalStateException("cannot settle");
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 1 && handled.size() == 1);
    ConsumerRecord<String, String> dead = readOne(topic + ".DLT");
    assertThat(dead.key()).isEqualTo("big");
    assertThat(dead.value()).isEqualTo("x".repeat(1_000));
    assertThat(header(dead, GiftkitConsumer.DLT_TRUNCATED)).isEqualTo("20000");
    assertThat(header(dead, GiftkitConsumer.DLT_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
  }

  /** Redis store: duplicates skipped; a failed first attempt releases its claims so the retry applies each once. */
  @Test
  void theRedisStoreSkipsDuplicatesAndReleasesClaimsOfAFailedAttempt() throws Exception {
    String topic = KAFKA.createTopic("redis-idem", 2);
    StatefulRedisConnection<String, String> redis = REDIS.client().connect();
    try {
      RedisIdempotencyStore store = RedisIdempotencyStore.create(redis, REDIS.key("idem:"),
          Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofSeconds(2));
      Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
      AtomicInteger calls = new AtomicInteger();
      sendWithDuplicates(topic, 500);
      GiftkitConsumer<String, String> consumer = running.start(strings("redis-idem", "ri-" + topic, topic)
          .retries(3, Duration.ofMillis(20))
          .idempotentBatchHandler(store, ConsumerRecord::key, records -> {
            if (calls.incrementAndGet() == 1) {
              throw new IllegalStateException("the first attempt fails after its keys were claimed");
            }
            records.forEach(r -> applied.computeIfAbsent(r.key(), k -> new AtomicInteger()).incrementAndGet());
          }).build());
      await().atMost(Duration.ofSeconds(60)).until(() -> consumer.handled() + consumer.duplicates() == 550);
      assertThat(applied).hasSize(500).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
      assertThat(consumer.duplicates()).isEqualTo(50);
      assertThat(consumer.deadLettered()).isZero();
      assertThat(consumer.batchFailures()).isEqualTo(1);
      assertThat(REDIS.commands().get(REDIS.key("idem:") + "ri-" + topic + ":order-0")).isEqualTo("done");
    } finally {
      redis.close();
    }
  }

  /** The interceptor stamps the local site on records that have none and leaves an explicit one alone. */
  @Test
  void theInterceptorStampsTheSiteOnEveryRecordThatHasNone() throws Exception {
    String topic = KAFKA.createTopic("stamped", 1);
    Map<String, Object> config = Map.of("bootstrap.servers", KAFKA.bootstrapServers(),
        "interceptor.classes", SiteStampingInterceptor.class.getName(), SiteStampingInterceptor.SITE_CONFIG, "b");
    try (KafkaProducer<String, String> p = new KafkaProducer<>(config,
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer())) {
      ProducerRecord<String, String> explicit = new ProducerRecord<>(topic, "explicit", "v");
      SiteHeaders.stamp(explicit.headers(), io.giftkit.core.Site.of("a"), "room-1");
      p.send(explicit);
      p.send(new ProducerRecord<>(topic, "plain", "v"));
    }
    Map<String, String> sites = new ConcurrentHashMap<>();
    running.start(strings("stamped", "stamped-" + topic, topic)
        .handler(r -> sites.put(r.key(), header(r, SiteHeaders.SITE) + "/" + header(r, SiteHeaders.ROUTE))).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> sites.size() == 2);
    assertThat(sites).containsEntry("explicit", "a/room-1").containsEntry("plain", "b/null");
    assertThatThrownBy(() -> new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(),
        "interceptor.classes", SiteStampingInterceptor.class.getName(), SiteStampingInterceptor.SITE_CONFIG, "Site A"),
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer()))
        .hasRootCauseInstanceOf(org.apache.kafka.common.config.ConfigException.class)
        .rootCause().hasMessageContaining("giftkit.site").hasMessageContaining("Site A");
  }

  /** A claim another consumer holds (a rebalance in flight) fails the attempt rather than skipping or doubling. */
  @Test
  void aRedisKeyPendingElsewhereFailsTheAttemptAndIsFreeOnceReleased() throws Exception {
    StatefulRedisConnection<String, String> redis = REDIS.client().connect();
    try {
      RedisIdempotencyStore store = RedisIdempotencyStore.create(redis, REDIS.key("pending:"),
          Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofSeconds(2));
      RedisIdempotencyStore.Claims first = store.claimAll("g", List.of("order-1", "order-2"));
      assertThat(first.fresh()).containsExactly("order-1", "order-2");
      assertThatThrownBy(() -> store.claimAll("g", List.of("order-3", "order-1")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("idempotency key 'order-1' of group 'g' is being handled by another consumer (pending);"
              + " try again later");
      assertThat(store.claimAll("g", List.of("order-3")).fresh()).as("the failed attempt released its own claims")
          .containsExactly("order-3");
      first.release();
      assertThat(store.claimAll("g", List.of("order-1")).fresh()).containsExactly("order-1");
    } finally {
      redis.close();
    }
  }

  /** A handler that ignores the interrupt is abandoned; a new helper thread handles the records after it. */
  @Test
  void aHandlerThatIgnoresTheInterruptIsAbandoned() throws Exception {
    String topic = KAFKA.createTopic("stubborn", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "stubborn", "v"));
      p.send(new ProducerRecord<>(topic, "next", "v"));
    }
    java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
    Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(strings("stubborn", "stubborn-" + topic, topic)
        .retries(1, Duration.ofMillis(10)).maxProcessingTime(Duration.ofMillis(300))
        .handler(r -> {
          handlerThreads.add(Thread.currentThread().getName());
          if (r.key().equals("stubborn")) {
            while (!release.get()) {
              java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // ignores interrupts on purpose
            }
          }
          handled.add(r.key());
        }).build());
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> handled.contains("next") && consumer.deadLettered() == 1);
      assertThat(consumer.timeouts()).isEqualTo(1);
      assertThat(handlerThreads).as("the stuck thread was replaced").hasSize(2);
      assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
    } finally {
      release.set(true);
    }
  }

  @Test
  void badConfigurationIsNamed() {
    assertThatThrownBy(() -> strings("x", "g", "t")
        .kafka(Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "30000"))
        .maxProcessingTime(Duration.ofSeconds(30)).handler(r -> { }).build())
        .hasMessage("maxProcessingTime must be below max.poll.interval.ms (30000 ms), but was 30s");
    assertThatThrownBy(() -> strings("x", "g", "t").concurrency(0)).hasMessage("concurrency must be in [1, 64], but was 0");
    assertThatThrownBy(() -> strings("x", "g", "t").lagAlert(-1, Duration.ofSeconds(1), Duration.ZERO, l -> { }))
        .hasMessageStartingWith("maxLag must");
    assertThatThrownBy(() -> RedisIdempotencyStore.create(REDIS.client().connect(), "p:", Duration.ofMinutes(10),
        Duration.ofMinutes(1), Duration.ofSeconds(1)))
        .hasMessage("doneTtl must be at least the lease (10m), but was 1m");
  }
}
