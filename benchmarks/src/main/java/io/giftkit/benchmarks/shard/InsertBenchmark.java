package io.giftkit.benchmarks.shard;

import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.ShardedJdbc;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Inserting an order through {@link ShardedJdbc} against hand-written JDBC doing the same routing
 * and insert on the same MariaDB with the same pools (2 shards, 2 threads). Needs MariaDB on
 * 127.0.0.1:3306 (scripts/bench starts it); creates and drops its own databases.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class InsertBenchmark {

  static final String URL = System.getenv().getOrDefault("GIFTKIT_MYSQL_URL", "jdbc:mariadb://127.0.0.1:3306/");
  static final String USER = System.getenv().getOrDefault("GIFTKIT_MYSQL_USER", "root");
  static final String PASSWORD = System.getenv().getOrDefault("GIFTKIT_MYSQL_PASSWORD", "");
  static final String DDL = "CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
      + " amount BIGINT NOT NULL, created_at BIGINT NOT NULL)";

  private final AtomicLong ids = new AtomicLong();
  private final String[] dbs = {"gk_bench_shard0_" + System.nanoTime(), "gk_bench_shard1_" + System.nanoTime()};
  private ShardRouter router;
  private ShardDataSources nodes;
  private ShardedJdbc jdbc;

  @Setup
  public void setUp() throws SQLException {
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
      for (String db : dbs) {
        s.execute("CREATE DATABASE " + db);
      }
    }
    router = ShardRouter.builder("bench_order").shards(2).build();
    ShardDataSources.Builder b = ShardDataSources.builder().maxPoolSize(4);
    for (int i = 0; i < 2; i++) {
      b.primary(i, URL + dbs[i], USER, PASSWORD);
    }
    nodes = b.build();
    jdbc = new ShardedJdbc(router, nodes);
    jdbc.ensureTables(DDL, router.monthOf(Instant.now()));
  }

  @TearDown
  public void tearDown() throws SQLException {
    nodes.close();
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
      for (String db : dbs) {
        s.execute("DROP DATABASE IF EXISTS " + db);
      }
    }
  }

  @Benchmark
  public boolean giftkitInsert() {
    long id = ids.incrementAndGet();
    Instant now = Instant.now();
    return jdbc.insertIfAbsent(id, now, "INSERT IGNORE INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)",
        id, id, 100L, now.toEpochMilli());
  }

  @Benchmark
  public boolean handWrittenJdbc() throws SQLException {
    long id = ids.incrementAndGet();
    Instant now = Instant.now();
    int shard = (int) (id % 2);
    String table = router.route(id, now).table();
    try (Connection c = nodes.primary(shard).getConnection();
        PreparedStatement ps = c.prepareStatement(
            "INSERT IGNORE INTO " + table + " (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)")) {
      ps.setLong(1, id);
      ps.setLong(2, id);
      ps.setLong(3, 100L);
      ps.setLong(4, now.toEpochMilli());
      return ps.executeUpdate() == 1;
    }
  }
}
