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
 * Records per second through {@link GiftkitConsumer} with idempotency against a raw kafka-clients
 * poll loop doing the same ledger insert per record with no deduplication and a commit per poll. The
 * GiftKit forms: JDBC claims batched per poll (one multi-row claim and the batch's inserts in one
 * transaction), JDBC per record (a claim and the insert in one transaction per record), and Redis
 * claims batched per poll (pipelined {@code SET NX}, the inserts auto-committed like the raw loop's).
 * Like is compared with like: the per-record forms with {@link #rawKafkaClientsLoop} (an auto-committed
 * insert per record), the batched JDBC form with {@link #rawKafkaClientsBatchedLoop} (one transaction
 * per poll, deduplicated by {@code INSERT IGNORE} on the business key). Each invocation consumes {@value #RECORDS}
 * records, produced beforehand (not timed) to a new 3-partition topic on the KRaft broker started
 * in the benchmark's JVM; MariaDB on 127.0.0.1:3306 (scripts/bench starts it). The time includes
 * joining the consumer group (the same for both).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(ConsumerThroughputBenchmark.RECORDS)
@Fork(1)
@Warmup(iterations = 1, batchSize = 1)
@Measurement(iterations = 3, batchSize = 1)
public class ConsumerThroughputBenchmark {

  static final int RECORDS = 5_000;
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
    topic = kafka.createTopic("bench-gifts-" + (round++), 3);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        p.send(new ProducerRecord<>(topic, topic + "-order-" + i, "1"));
      }
    }
  }

  private GiftkitConsumer.Builder<String, String> builder() {
    return GiftkitConsumer.<String, String>builder("bench")
        .kafka(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "bench-" + topic))
        .topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer());
  }

  /** Runs the consumer until it has taken every record. */
  private static long drain(GiftkitConsumer<String, String> consumer) {
    try (consumer) {
      consumer.start();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (consumer.handled() + consumer.duplicates() < RECORDS && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // polling a counter, not timing work
      }
      if (consumer.state() != GiftkitConsumer.State.RUNNING || consumer.handled() != RECORDS) {
        throw new IllegalStateException("consumer " + consumer.state() + " handled " + consumer.handled(),
            consumer.failure());
      }
      return consumer.handled();
    }
  }

  private static void insert(Connection c, String orderId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (order_id, amount) VALUES (?, 1)")) {
      ps.setString(1, orderId);
      ps.executeUpdate();
    }
  }

  @Benchmark
  public long giftkitConsumerJdbcIdempotency() {
    return drain(builder().transactionalHandler(db, STORE, ConsumerRecord::key, (r, c) -> insert(c, r.key())).build());
  }

  @Benchmark
  public long giftkitConsumerJdbcBatchedClaims() {
    return drain(builder().transactionalBatchHandler(db, STORE, ConsumerRecord::key, (records, c) -> {
      for (ConsumerRecord<String, String> r : records) {
        insert(c, r.key());
      }
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
    long handled = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "raw-batched-" + topic,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new StringDeserializer(), new StringDeserializer());
        Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      consumer.subscribe(List.of(topic));
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
        consumer.commitSync();
      }
    }
    return handled;
  }

  @Benchmark
  public long rawKafkaClientsLoop() throws SQLException {
    long handled = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "raw-" + topic,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new StringDeserializer(), new StringDeserializer());
        Connection c = db.getConnection()) {
      consumer.subscribe(List.of(topic));
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
    }
    return handled;
  }
}
