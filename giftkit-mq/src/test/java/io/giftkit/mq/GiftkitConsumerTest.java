package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.Site;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against a real KRaft broker in the test JVM and a real MariaDB. */
class GiftkitConsumerTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final KafkaBroker KAFKA = KafkaBroker.shared();
  static HikariDataSource db;
  static final JdbcIdempotencyStore STORE = new JdbcIdempotencyStore("giftkit_idempotency");

  @RegisterExtension final RunningConsumers running = new RunningConsumers();

  @BeforeAll
  static void database() throws SQLException {
    db = TestPools.pool(MARIADB, 4);
    createTables(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }


  static KafkaProducer<String, String> producer() {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer());
  }

  static Map<String, Object> kafka(String group) {
    return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, group);
  }

  /** The idempotency table and the ledger the tests' handlers write. */
  static void createTables(javax.sql.DataSource db) throws SQLException {
    try (Connection conn = db.getConnection(); Statement s = conn.createStatement()) {
      STORE.createTable(conn);
      s.execute("CREATE TABLE ledger (topic VARCHAR(100) NOT NULL, order_id VARCHAR(64) NOT NULL, amount BIGINT NOT NULL)");
    }
  }

  private static long ledger(String topic, String what) throws SQLException {
    return ledger(db, topic, what);
  }

  /** One aggregate ({@code COUNT(*)}, {@code SUM(amount)} …) over a topic's ledger rows. */
  static long ledger(javax.sql.DataSource db, String topic, String what) throws SQLException {
    try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT " + what + " FROM ledger WHERE topic = ?")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static void applyToLedger(ConsumerRecord<String, String> r, Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (topic, order_id, amount) VALUES (?, ?, ?)")) {
      ps.setString(1, r.topic());
      ps.setString(2, r.key());
      ps.setLong(3, Long.parseLong(r.value()));
      ps.executeUpdate();
    }
  }

  /** 1,000 gift events, 10% of them sent twice: each order is applied exactly once. */
  @Test
  void eachOrderIsAppliedOnceWhenTenPercentArriveTwice() throws Exception {
    String topic = KAFKA.createTopic("gifts", 3);
    long expectedSum = 0;
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 1_000; i++) {
        String amount = Integer.toString(i % 7 + 1);
        expectedSum += i % 7 + 1;
        p.send(new ProducerRecord<>(topic, "order-" + i, amount));
        if (i % 10 == 0) {
          p.send(new ProducerRecord<>(topic, "order-" + i, amount)); // a redelivered duplicate
        }
      }
    }
    GiftkitConsumer<String, String> settlement = running.start(GiftkitConsumer.<String, String>builder("settlement")
        .kafka(kafka("settlement-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalHandler(db, STORE, ConsumerRecord::key, GiftkitConsumerTest::applyToLedger)
        .build());
    await().atMost(Duration.ofSeconds(90)).until(() -> settlement.handled() + settlement.duplicates() == 1_100);
    assertThat(settlement.duplicates()).isEqualTo(100);
    assertThat(ledger(topic, "COUNT(*)")).isEqualTo(1_000);
    assertThat(ledger(topic, "SUM(amount)")).isEqualTo(expectedSum);
    assertThat(settlement.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
    settlement.close();
    assertThat(settlement.state()).as("a normal close is not a failure").isEqualTo(GiftkitConsumer.State.STOPPED);
    assertThat(settlement.failure()).isNull();
  }

  /** The consumer dies mid-stream without committing; a new one in the group loses and doubles nothing. */
  /** The client listener hears each poll loop's Kafka consumer and the dead-letter producer, created and closed. */
  @Test
  void theClientListenerHearsEveryKafkaClientCreatedAndClosed() throws Exception {
    String topic = KAFKA.createTopic("clients", 2);
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "order-1", "1")).get();
    }
    List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.Set<Object> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Boolean> withMetrics = new java.util.concurrent.CopyOnWriteArrayList<>(); // (a listener's own asserts are caught)
    KafkaClientListener listener = new KafkaClientListener() {
      @Override
      public void consumerCreated(String name, org.apache.kafka.clients.consumer.Consumer<?, ?> c) {
        events.add("consumer+ " + name);
        open.add(c);
        withMetrics.add(!c.metrics().isEmpty());
      }

      @Override
      public void consumerClosed(String name, org.apache.kafka.clients.consumer.Consumer<?, ?> c) {
        events.add("consumer- " + (open.remove(c) ? name : "never created"));
      }

      @Override
      public void producerCreated(String name, org.apache.kafka.clients.producer.Producer<?, ?> p) {
        events.add("producer+ " + name);
        open.add(p);
      }

      @Override
      public void producerClosed(String name, org.apache.kafka.clients.producer.Producer<?, ?> p) {
        events.add("producer- " + (open.remove(p) ? name : "never created"));
      }
    };
    java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
    GiftkitConsumer<String, String> c = running.start(GiftkitConsumer.<String, String>builder("observed")
        .kafka(kafka("observed-" + topic)).topics(topic).concurrency(2)
        .clientListener(listener)
        .clientListener(new KafkaClientListener() {
          @Override
          public void consumerCreated(String name, org.apache.kafka.clients.consumer.Consumer<?, ?> consumer) {
            throw new IllegalStateException("a broken listener does not stop the consumer");
          }
        })
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .handler(r -> handled.incrementAndGet()).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.get() == 1);
    assertThat(events).containsOnly("producer+ observed", "consumer+ observed").hasSize(3);
    assertThat(withMetrics).as("real clients with their metrics").containsExactly(true, true);
    c.close();
    assertThat(open).as("every client created was closed").isEmpty();
    assertThat(events).filteredOn(e -> e.startsWith("consumer- ")).containsExactly("consumer- observed",
        "consumer- observed");
    assertThat(events).endsWith("producer- observed");
  }

  @Test
  void aCrashedConsumerIsReplacedWithNothingLostAndNothingAppliedTwice() throws Exception {
    String topic = KAFKA.createTopic("gifts-crash", 2);
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 300; i++) {
        p.send(new ProducerRecord<>(topic, "order-" + i, "1"));
      }
    }
    AtomicInteger seen = new AtomicInteger();
    GiftkitConsumer<String, String> first = running.start(GiftkitConsumer.<String, String>builder("crashing")
        .kafka(kafka("ledger-" + topic)).topics(topic)
        .restarts(0, Duration.ofSeconds(1), Duration.ofSeconds(1)) // no supervisor: the replacement is another consumer
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalHandler(db, STORE, ConsumerRecord::key, (r, c) -> {
          if (seen.incrementAndGet() == 150) {
            throw new InternalError("simulated crash of the consumer thread"); // a VirtualMachineError
          }
          applyToLedger(r, c);
        }).build());
    await().dontCatchUncaughtExceptions() // the VirtualMachineError is rethrown on the dead poll thread
        .atMost(Duration.ofSeconds(60)).until(() -> first.state() == GiftkitConsumer.State.FAILED);
    assertThat(first.failure()).isInstanceOf(InternalError.class);
    assertThat(ledger(topic, "COUNT(*)")).isBetween(1L, 299L);

    GiftkitConsumer<String, String> second = running.start(GiftkitConsumer.<String, String>builder("replacement")
        .kafka(kafka("ledger-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .transactionalHandler(db, STORE, ConsumerRecord::key, GiftkitConsumerTest::applyToLedger).build());
    await().atMost(Duration.ofSeconds(90)).until(() -> ledger(topic, "COUNT(*)") == 300);
    await().atMost(Duration.ofSeconds(30)).until(() -> second.handled() + second.duplicates() >= 300 - first.handled());
    assertThat(ledger(topic, "COUNT(DISTINCT order_id)")).isEqualTo(300);
  }

  /** A value that cannot be deserialized goes straight to the DLT with its headers; the partition flows on. */
  @Test
  void poisonBytesGoToTheDeadLetterTopicAndThePartitionKeepsFlowing() throws Exception {
    String topic = KAFKA.createTopic("poison", 1);
    KAFKA.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "k1", "first"));
      ProducerRecord<String, String> poison = new ProducerRecord<>(topic, "k2", "POISON");
      poison.headers().add(SiteHeaders.SITE, "a".getBytes(StandardCharsets.UTF_8));
      poison.headers().add(GiftkitConsumer.DLT_ATTEMPTS, "99".getBytes(StandardCharsets.UTF_8)); // stale: replaced
      p.send(poison);
      p.send(new ProducerRecord<>(topic, "k3", "second"));
    }
    Deserializer<String> picky = (t, bytes) -> {
      String s = new String(bytes, StandardCharsets.UTF_8);
      if (s.equals("POISON")) {
        throw new IllegalArgumentException("not a gift event: " + s);
      }
      return s;
    };
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("poison")
        .kafka(kafka("poison-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), picky)
        .handler(r -> handled.add(r.value())).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 2 && consumer.deadLettered() == 1);
    assertThat(handled).containsExactly("first", "second");

    ConsumerRecord<String, String> dead = readOne(topic + ".DLT");
    assertThat(dead.value()).isEqualTo("POISON");
    assertThat(header(dead, GiftkitConsumer.DLT_TOPIC)).isEqualTo(topic);
    assertThat(header(dead, GiftkitConsumer.DLT_PARTITION)).isEqualTo("0");
    assertThat(header(dead, GiftkitConsumer.DLT_OFFSET)).isEqualTo("1");
    assertThat(header(dead, GiftkitConsumer.DLT_EXCEPTION)).isEqualTo(IllegalArgumentException.class.getName());
    assertThat(header(dead, GiftkitConsumer.DLT_MESSAGE)).isEqualTo("not a gift event: POISON");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("0");
    assertThat(header(dead, GiftkitConsumer.DLT_SITE)).isEqualTo("a");
    int attemptsHeaders = 0;
    for (org.apache.kafka.common.header.Header h : dead.headers()) {
      attemptsHeaders += h.key().equals(GiftkitConsumer.DLT_ATTEMPTS) ? 1 : 0;
    }
    assertThat(attemptsHeaders).as("dead-letter headers are replaced, not appended").isEqualTo(1);
  }

  /** A record whose handler keeps failing is retried, then dead-lettered; the records behind it follow in order. */
  @Test
  void aFailingRecordIsRetriedThenDeadLetteredAndTheRestFollowsInOrder() throws Exception {
    String topic = KAFKA.createTopic("failing", 1);
    KAFKA.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "a", "1"));
      p.send(new ProducerRecord<>(topic, "bad", "2"));
      p.send(new ProducerRecord<>(topic, "c", "3"));
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    AtomicInteger badTries = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("failing")
        .kafka(kafka("failing-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(3, Duration.ofMillis(20))
        .handler(r -> {
          if (r.key().equals("bad")) {
            badTries.incrementAndGet();
            throw new IllegalStateException("settlement service says no");
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 2 && consumer.deadLettered() == 1);
    assertThat(handled).containsExactly("a", "c");
    assertThat(badTries).hasValue(3);
    assertThat(consumer.retried()).isEqualTo(2);
    ConsumerRecord<String, String> dead = readOne(topic + ".DLT");
    assertThat(dead.key()).isEqualTo("bad");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("3");
    assertThat(header(dead, GiftkitConsumer.DLT_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
  }

  /**
   * A handler throwing an {@link AssertionError} or a {@link NoClassDefFoundError}, and a deserializer
   * throwing an {@link ExceptionInInitializerError}, fail only their own records: retried and
   * dead-lettered while the others are handled, the consumer RUNNING.
   */
  @Test
  void anErrorFromAHandlerOrDeserializerDeadLettersItsRecordAndTheOthersFlow() throws Exception {
    String topic = KAFKA.createTopic("errors", 1);
    KAFKA.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "a", "1"));
      p.send(new ProducerRecord<>(topic, "assert", "2"));
      p.send(new ProducerRecord<>(topic, "b", "3"));
      p.send(new ProducerRecord<>(topic, "linkage", "4"));
      p.send(new ProducerRecord<>(topic, "c", "5"));
      p.send(new ProducerRecord<>(topic, "init", "BROKEN-CLASS"));
      p.send(new ProducerRecord<>(topic, "d", "7"));
    }
    Deserializer<String> initFails = (t, bytes) -> {
      String s = new String(bytes, StandardCharsets.UTF_8);
      if (s.equals("BROKEN-CLASS")) {
        throw new ExceptionInInitializerError("static init of GiftEvent failed");
      }
      return s;
    };
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("errors")
        .kafka(kafka("errors-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), initFails)
        .retries(2, Duration.ofMillis(20))
        .handler(r -> {
          if (r.key().equals("assert")) {
            throw new AssertionError("invariant broken by this record");
          }
          if (r.key().equals("linkage")) {
            throw new NoClassDefFoundError("io/giftkit/demo/Missing");
          }
          handled.add(r.key());
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 4 && consumer.deadLettered() == 3);
    assertThat(handled).containsExactly("a", "b", "c", "d");
    assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.RUNNING);
    assertThat(consumer.failure()).isNull();
    assertThat(consumer.retried()).as("the two handler Errors were retried once each").isEqualTo(2);
    Map<String, String> exceptions = new java.util.HashMap<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        KAFKA.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic + ".DLT"));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        c.poll(Duration.ofMillis(200)).forEach(r -> exceptions.put(r.key(), header(r, GiftkitConsumer.DLT_EXCEPTION)));
        return exceptions.size() == 3;
      });
    }
    assertThat(exceptions).containsEntry("assert", AssertionError.class.getName())
        .containsEntry("linkage", NoClassDefFoundError.class.getName())
        .containsEntry("init", ExceptionInInitializerError.class.getName());
  }

  /** Two sites' records on one topic: the local-only filter handles its own (and untagged) ones, drops and counts the rest. */
  @Test
  void theLocalOnlyFilterDropsOtherSitesRecords() throws Exception {
    String topic = KAFKA.createTopic("sitea.gifts", 2); // MirrorMaker 2 naming: <source>.<topic>
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 30; i++) {
        ProducerRecord<String, String> r = new ProducerRecord<>(topic, "o" + i, "1");
        if (i % 3 != 2) {
          SiteHeaders.stamp(r.headers(), Site.of(i % 3 == 0 ? "a" : "b"), "room-" + i);
        }
        p.send(r);
      }
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> siteA = running.start(GiftkitConsumer.<String, String>builder("site-a")
        .kafka(kafka("site-a-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .siteFilter(SiteFilter.localOnly(Site.of("a")))
        .handler(r -> handled.add(r.key())).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() + siteA.filtered() == 30);
    assertThat(handled).hasSize(20); // 10 from site a, 10 untagged
    assertThat(siteA.filtered()).isEqualTo(10);
  }

  /** While the dead-letter topic cannot take the record, nothing is committed past it; once it can, it is dead-lettered. */
  @Test
  void aDeadLetterThatCannotBePublishedIsNeverCommittedPast() throws Exception {
    String topic = KAFKA.createTopic("no-dlt", 1); // no <topic>.DLT yet, and the broker does not create topics
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "k1", "POISON"));
      p.send(new ProducerRecord<>(topic, "k2", "fine"));
    }
    Deserializer<String> picky = (t, bytes) -> {
      String s = new String(bytes, StandardCharsets.UTF_8);
      if (s.equals("POISON")) {
        throw new IllegalArgumentException("poison");
      }
      return s;
    };
    List<String> handled = new CopyOnWriteArrayList<>();
    String group = "no-dlt-" + topic;
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("no-dlt")
        .kafka(kafka(group)).topics(topic).deadLetterTimeout(Duration.ofSeconds(1))
        .deserializers(new StringDeserializer(), picky)
        .handler(r -> handled.add(r.value())).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLetterFailures() >= 2);
    assertThat(handled).as("the record behind it waits").isEmpty();
    assertThat(committed(group, topic)).as("nothing committed past the record").isIn(-1L, 0L);

    KAFKA.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic + ".DLT", 1, (short) 1)));
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 1 && handled.size() == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> committed(group, topic) == 2L);
    assertThat(readOne(topic + ".DLT").value()).isEqualTo("POISON");
  }

  /** The group's committed offset of partition 0, or -1 if none. */
  private static long committed(String group, String topic) throws Exception {
    Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets =
        KAFKA.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, java.util.concurrent.TimeUnit.SECONDS);
    org.apache.kafka.clients.consumer.OffsetAndMetadata o = offsets.get(new org.apache.kafka.common.TopicPartition(topic, 0));
    return o == null ? -1 : o.offset();
  }

  @Test
  void badConfigurationIsNamed() {
    assertThatThrownBy(() -> GiftkitConsumer.<String, String>builder("x")
        .kafka(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1")).topics("t")
        .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { }).build())
        .hasMessage("group.id must be set, but was null");
    assertThatThrownBy(() -> GiftkitConsumer.<String, String>builder("x").retries(0, Duration.ofMillis(1)))
        .hasMessage("maxAttempts must be in [1, 100], but was 0");
    assertThatThrownBy(() -> GiftkitConsumer.<String, String>builder("x").kafka(kafka("g")).topics("t", "t.DLT")
        .deserializers(new StringDeserializer(), new StringDeserializer()).handler(r -> { }).build())
        .hasMessage("deadLetterSuffix must not make a dead-letter topic equal to a consumed topic, but was .DLT");
    assertThatThrownBy(() -> new JdbcIdempotencyStore("bad-name;")).hasMessageStartingWith("table must be 1 to 64 characters");
  }

  /** The injected ticker drives the retry due time: a record is tried again only when the ticker says it is due. */
  @Test
  void theInjectedTickerDecidesWhenAFailedRecordIsDue() throws Exception {
    String topic = KAFKA.createTopic("ticker", 1);
    try (KafkaProducer<String, String> p = producer()) {
      p.send(new ProducerRecord<>(topic, "k", "v"));
    }
    io.giftkit.core.FakeTicker ticker = new io.giftkit.core.FakeTicker();
    AtomicInteger attempts = new AtomicInteger();
    GiftkitConsumer<String, String> consumer = running.start(GiftkitConsumer.<String, String>builder("ticker")
        .kafka(kafka("ticker-" + topic)).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(3, Duration.ofSeconds(5))
        .ticker(ticker)
        .handler(r -> {
          if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("first attempt fails");
          }
        }).build());
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.retried() == 1);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
        .until(() -> attempts.get() == 1); // 5 s back-off on the fake clock: not due, however long we wait
    ticker.advance(Duration.ofSeconds(5));
    await().atMost(Duration.ofSeconds(30)).until(() -> consumer.handled() == 1);
    assertThat(attempts.get()).isEqualTo(2);
    assertThatThrownBy(() -> GiftkitConsumer.<String, String>builder("x").ticker(null))
        .hasMessage("ticker must not be null, but was null");
  }

  static ConsumerRecord<String, String> readOne(String topic) {
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        KAFKA.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          return r;
        }
      }
    }
    throw new AssertionError("nothing arrived on " + topic);
  }

  static String header(ConsumerRecord<?, ?> r, String name) {
    return SiteHeaders.text(r.headers(), name);
  }
}
