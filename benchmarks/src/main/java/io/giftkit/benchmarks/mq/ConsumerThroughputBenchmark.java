package io.giftkit.benchmarks.mq;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.mq.RedisIdempotencyStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.giftkit.testing.KafkaBroker;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Records per second through {@link GiftkitConsumer} against raw kafka-clients poll loops that do the
 * same database work by hand. Each GiftKit form has its twin, so a ratio measures the library, not a
 * difference in batching or durability:
 * <ul>
 *   <li>{@link #giftkitConsumerPlain} (a record handler, an auto-committed insert per record) with
 *       {@link #rawKafkaClientsLoop} (the same insert per record, offsets committed per poll);
 *   <li>{@link #giftkitConsumerJdbcIdempotency} (a claim row and the insert in one transaction per
 *       record) with {@link #rawKafkaClientsClaimPerRecordLoop} (the same two statements and commit per
 *       record, written by hand on one connection);
 *   <li>{@link #giftkitConsumerJdbcBatchedClaims} (one multi-row claim and the batch's inserts in one
 *       transaction) with {@link #rawKafkaClientsBatchedLoop} (one transaction per poll, deduplicated
 *       by {@code INSERT IGNORE} on the business key, as issue 16 defines it);
 *   <li>{@link #giftkitConsumerBatchedBusinessKey} (a plain batch handler doing the raw batched loop's
 *       statements) with {@link #rawKafkaClientsBatchedLoop}: the library's own cost;
 *   <li>{@link #giftkitConsumerRedisBatchedClaims} (pipelined {@code SET NX} claims, inserts
 *       auto-committed) has no hand-written twin here; it is read against {@link #rawKafkaClientsLoop}.
 * </ul>
 * Each invocation consumes {@value #RECORDS}
 * records, produced beforehand (not timed) to a new 3-partition topic on the KRaft broker started
 * in the benchmark's JVM; MariaDB on 127.0.0.1:3306 (scripts/bench starts it). The time includes
 * joining the consumer group, not closing the consumer ({@link #closeInvocation}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(ConsumerThroughputBenchmark.RECORDS)
@Fork(1)
@Warmup(iterations = 2, batchSize = 1)
@Measurement(iterations = 5, batchSize = 1)
public class ConsumerThroughputBenchmark {

  static final int RECORDS = 20_000;
  static final String URL = System.getenv().getOrDefault("GIFTKIT_MYSQL_URL", "jdbc:mariadb://127.0.0.1:3306/");
  static final String USER = System.getenv().getOrDefault("GIFTKIT_MYSQL_USER", "root");
  static final String PASSWORD = System.getenv().getOrDefault("GIFTKIT_MYSQL_PASSWORD", "");

  private final String database = "gk_bench_mq_" + System.nanoTime();
  private KafkaBroker kafka;
  private HikariDataSource db;
  private String topic;
  private int round;
  private RedisClient redisClient;
  private StatefulRedisConnection<String, String> redis;
  private RedisIdempotencyStore redisStore;
  private GiftkitConsumer<String, String> giftkitConsumer;
  private KafkaConsumer<String, String> rawConsumer;
  private Connection rawConnection;
  private final java.util.concurrent.atomic.AtomicLong arrived = new java.util.concurrent.atomic.AtomicLong();
  private java.util.concurrent.CountDownLatch allArrived;
  private static final JdbcIdempotencyStore STORE = new JdbcIdempotencyStore("giftkit_idempotency");

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    kafka = KafkaBroker.shared();
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(URL + database);
    config.setUsername(USER);
    config.setPassword(PASSWORD);
    config.setMaximumPoolSize(2);
    db = new HikariDataSource(config);
    try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
      new JdbcIdempotencyStore("giftkit_idempotency").createTable(c);
      s.execute("CREATE TABLE ledger (order_id VARCHAR(64) NOT NULL, amount BIGINT NOT NULL)");
      // the batched raw loop deduplicates by the business key itself (INSERT IGNORE on the primary key)
      s.execute("CREATE TABLE ledger_unique (order_id VARCHAR(64) NOT NULL PRIMARY KEY, amount BIGINT NOT NULL)");
    }
    redisClient = RedisClient.create(System.getenv().getOrDefault("GIFTKIT_REDIS_URL", "redis://127.0.0.1:6379"));
    redis = redisClient.connect();
    redisStore = RedisIdempotencyStore.create(redis, database + ":", RedisIdempotencyStore.DEFAULT_LEASE,
        Duration.ofMinutes(10), Duration.ofSeconds(5));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws SQLException {
    redis.close();
    redisClient.shutdown();
    db.close();
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database);
    }
  }

  /** A fresh topic with {@value #RECORDS} gift events for each invocation. */
  @Setup(Level.Invocation)
  public void produce() {
    arrived.set(0);
    allArrived = new java.util.concurrent.CountDownLatch(1);
    topic = kafka.createTopic("bench-gifts-" + (round++), 3);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000,
        // not idempotent: on this in-JVM broker under load an idempotent producer was seen to stall on
        // OUT_OF_ORDER_SEQUENCE_NUMBER after a NOT_LEADER_OR_FOLLOWER; one request in flight keeps order
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
        new StringSerializer(), new StringSerializer())) {
      List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>(RECORDS);
      for (int i = 0; i < RECORDS; i++) {
        sent.add(p.send(new ProducerRecord<>(topic, topic + "-order-" + i, "1")));
      }
      for (java.util.concurrent.Future<?> f : sent) {
        f.get(); // every record is on the topic before the consumer starts
      }
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("producing the benchmark's records to " + topic + " failed", e);
    }
  }

  private GiftkitConsumer.Builder<String, String> builder() {
    return GiftkitConsumer.<String, String>builder("bench")
        .kafka(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "bench-" + topic))
        .topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer());
  }

  /**
   * Closes the invocation's consumer and connection, outside the measured time for every form alike:
   * closing is a one-time cost, not throughput (a consumer closed while its poll waits for data also
   * waits for that fetch, up to {@code fetch.max.wait.ms}, 500 ms).
   */
  @TearDown(Level.Invocation)
  public void closeInvocation() throws SQLException {
    if (giftkitConsumer != null) {
      giftkitConsumer.close();
      giftkitConsumer = null;
    }
    if (rawConsumer != null) {
      rawConsumer.close();
      rawConsumer = null;
    }
    if (rawConnection != null) {
      rawConnection.close();
      rawConnection = null;
    }
  }

  /** The handlers count what reached them; the last record releases the benchmark thread. */
  private void arrived(int records) {
    if (arrived.addAndGet(records) >= RECORDS) {
      allArrived.countDown();
    }
  }

  /**
   * Runs the consumer until it has taken every record (closed by {@link #closeInvocation}). The
   * benchmark thread blocks on a latch the handlers release, then waits the last commit out: polling
   * the consumer's counters every millisecond instead woke a third thread 1,000 times a second, which
   * on this 2-core machine slowed the handler's database round trips (the raw loops have no such
   * thread).
   */
  private long drain(GiftkitConsumer<String, String> consumer) {
    giftkitConsumer = consumer;
    consumer.start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    try {
      allArrived.await(5, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    while (consumer.handled() + consumer.duplicates() < RECORDS && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(50_000); // the last batch's commit, then its count
    }
    if (consumer.state() != GiftkitConsumer.State.RUNNING || consumer.handled() != RECORDS) {
      throw new IllegalStateException("consumer " + consumer.state() + " handled " + consumer.handled(),
          consumer.failure());
    }
    return consumer.handled();
  }

  /** A raw consumer of the invocation's topic (closed by {@link #closeInvocation}). */
  private KafkaConsumer<String, String> rawConsumer(String group) throws SQLException {
    rawConsumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new StringDeserializer(), new StringDeserializer());
    rawConsumer.subscribe(List.of(topic));
    rawConnection = db.getConnection();
    return rawConsumer;
  }

  private static void insert(Connection c, String orderId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (order_id, amount) VALUES (?, 1)")) {
      ps.setString(1, orderId);
      ps.executeUpdate();
    }
  }

  @Benchmark
  public long giftkitConsumerPlain() {
    return drain(builder().handler(r -> {
      try (Connection c = db.getConnection()) {
        insert(c, r.key()); // auto-commit, like the raw loop
      }
      arrived(1);
    }).build());
  }

  @Benchmark
  public long giftkitConsumerJdbcIdempotency() {
    return drain(builder().transactionalHandler(db, STORE, ConsumerRecord::key, (r, c) -> {
      insert(c, r.key());
      arrived(1);
    }).build());
  }

  /**
   * {@code transactionalBatchHandler}: the poll's business keys claimed in the idempotency table, then
   * the ledger rows written the way {@link #rawKafkaClientsBatchedLoop} writes them (one statement
   * prepared for the batch, one execution per record, the same {@code ledger_unique} table), in one
   * transaction. A plain {@code INSERT}: the claims deduplicate, where the twin's {@code INSERT IGNORE}
   * does. The difference between the two is the library plus the claim table.
   */
  @Benchmark
  public long giftkitConsumerJdbcBatchedClaims() {
    return drain(builder().transactionalBatchHandler(db, STORE, ConsumerRecord::key, (records, c) -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger_unique (order_id, amount) VALUES (?, 1)")) {
        for (ConsumerRecord<String, String> r : records) {
          ps.setString(1, r.key());
          ps.executeUpdate();
        }
      }
      arrived(records.size());
    }).build());
  }

  /**
   * GiftKit's plain {@code batchHandler} doing exactly what {@link #rawKafkaClientsBatchedLoop} does:
   * one transaction per poll, deduplicated by {@code INSERT IGNORE} on the business key. The difference
   * between the two is the library's own cost; the difference to {@link #giftkitConsumerJdbcBatchedClaims}
   * is the claim table's.
   */
  @Benchmark
  public long giftkitConsumerBatchedBusinessKey() {
    return drain(builder().batchHandler(records -> {
      try (Connection c = db.getConnection()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT IGNORE INTO ledger_unique (order_id, amount) VALUES (?, 1)")) {
          for (ConsumerRecord<String, String> r : records) {
            ps.setString(1, r.key());
            ps.executeUpdate();
          }
        }
        c.commit();
      }
      arrived(records.size());
    }).build());
  }

  @Benchmark
  public long giftkitConsumerRedisBatchedClaims() {
    return drain(builder().idempotentBatchHandler(redisStore, ConsumerRecord::key, records -> {
      try (Connection c = db.getConnection()) {
        for (ConsumerRecord<String, String> r : records) {
          insert(c, r.key()); // auto-commit, like the raw loop
        }
      }
      arrived(records.size());
    }).build());
  }

  /**
   * The raw loop that batches the way {@code transactionalBatchHandler} does: each poll's records in one
   * database transaction, deduplicated by {@code INSERT IGNORE} on the business key (the primary key of
   * {@code ledger_unique}), then one offset commit. What it leaves out, and GiftKit does: retries,
   * dead letters, the bound on a handler call and on the poll batch, lag, supervision.
   */
  @Benchmark
  public long rawKafkaClientsBatchedLoop() throws SQLException {
    return rawBatched("raw-batched-", false);
  }

  /**
   * {@link #rawKafkaClientsBatchedLoop} committing offsets asynchronously after each poll, as GiftKit's
   * poll loop does (it commits synchronously only on revocation and close).
   */
  @Benchmark
  public long rawKafkaClientsBatchedLoopAsyncCommit() throws SQLException {
    return rawBatched("raw-batched-async-", true);
  }

  private long rawBatched(String groupPrefix, boolean asyncCommit) throws SQLException {
    long handled = 0;
    KafkaConsumer<String, String> consumer = rawConsumer(groupPrefix + topic);
    Connection c = rawConnection;
    c.setAutoCommit(false);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (handled < RECORDS && System.nanoTime() < deadline) {
      var records = consumer.poll(Duration.ofMillis(100));
      if (records.isEmpty()) {
        continue;
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT IGNORE INTO ledger_unique (order_id, amount) VALUES (?, 1)")) {
        for (ConsumerRecord<String, String> r : records) {
          ps.setString(1, r.key());
          ps.executeUpdate(); // one statement per record, as the GiftKit handler's inserts
          handled++;
        }
      }
      c.commit(); // one transaction per poll
      if (asyncCommit) {
        consumer.commitAsync();
      } else {
        consumer.commitSync();
      }
    }
    return handled;
  }

  /**
   * The raw loop that does what {@code transactionalHandler} does, by hand: per record, a claim row
   * ({@code INSERT IGNORE} into the same idempotency table) and, if it was new, the ledger insert, in one
   * transaction; offsets committed per poll. One connection held for the whole run.
   */
  @Benchmark
  public long rawKafkaClientsClaimPerRecordLoop() throws SQLException {
    long handled = 0;
    KafkaConsumer<String, String> consumer = rawConsumer("raw-claims-" + topic);
    Connection c = rawConnection;
    c.setAutoCommit(false);
    byte[] group = ("raw-claims-" + topic).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (PreparedStatement claim = c.prepareStatement(
        "INSERT IGNORE INTO giftkit_idempotency (consumer_group, idem_key) VALUES (?, ?)")) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (handled < RECORDS && System.nanoTime() < deadline) {
        var records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, String> r : records) {
          claim.setBytes(1, group);
          claim.setBytes(2, r.key().getBytes(java.nio.charset.StandardCharsets.UTF_8));
          if (claim.executeUpdate() == 1) {
            insert(c, r.key());
          }
          c.commit(); // one transaction per record
          handled++;
        }
        if (!records.isEmpty()) {
          consumer.commitSync();
        }
      }
    }
    return handled;
  }

  @Benchmark
  public long rawKafkaClientsLoop() throws SQLException {
    long handled = 0;
    KafkaConsumer<String, String> consumer = rawConsumer("raw-" + topic);
    Connection c = rawConnection;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (handled < RECORDS && System.nanoTime() < deadline) {
      var records = consumer.poll(Duration.ofMillis(100));
      for (ConsumerRecord<String, String> r : records) {
        insert(c, r.key()); // auto-commit: one statement per record, no deduplication
        handled++;
      }
      if (!records.isEmpty()) {
        consumer.commitSync();
      }
    }
    return handled;
  }
}
