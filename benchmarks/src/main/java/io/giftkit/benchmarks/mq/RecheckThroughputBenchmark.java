package io.giftkit.benchmarks.mq;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckResult;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Durable re-checks executed per second on one MariaDB (issue 15): {@value #CHECKS} checks due at once,
 * a handler that resolves at once, so what is measured is the scheduler and its database work (a
 * claim and a resolve, one commit each, per check). GiftKit's {@code DelayedRecheck} with
 * {@code concurrency} 1 (one check at a time, as before) and {@value #LANES}, against the baseline:
 * {@value #LANES} threads doing the same two commits per row by hand ({@code UPDATE … WHERE id = ?},
 * then {@code DELETE … WHERE id = ?}), the most this database gives for that work at that concurrency.
 * The time of one invocation is from start to the last check resolved; scheduling the rows (one
 * transaction) is outside it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(RecheckThroughputBenchmark.CHECKS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class RecheckThroughputBenchmark {

  static final int CHECKS = 10_000;
  static final int LANES = 16;
  private final String database = "giftkit_bench_recheck_" + Long.toHexString(System.nanoTime());

  private HikariDataSource db;
  private int round;
  private String name;
  private DelayedRecheck recheck;

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    try (Connection c = DriverManager.getConnection(ConsumerThroughputBenchmark.URL, ConsumerThroughputBenchmark.USER,
        ConsumerThroughputBenchmark.PASSWORD); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(ConsumerThroughputBenchmark.URL + database);
    config.setUsername(ConsumerThroughputBenchmark.USER);
    config.setPassword(ConsumerThroughputBenchmark.PASSWORD);
    config.setMaximumPoolSize(LANES + 2);
    db = new HikariDataSource(config);
    DelayedRecheck.builder("ddl", db).handler((k, a) -> RecheckResult.resolved()).build().createTable();
    try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE baseline (id BIGINT PRIMARY KEY, status INT NOT NULL, due_at BIGINT NOT NULL)");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws SQLException {
    db.close();
    try (Connection c = DriverManager.getConnection(ConsumerThroughputBenchmark.URL, ConsumerThroughputBenchmark.USER,
        ConsumerThroughputBenchmark.PASSWORD); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database);
    }
  }

  /** {@value #CHECKS} checks due now under a fresh scheduler name, and as many baseline rows. */
  @Setup(Level.Invocation)
  public void schedule() throws SQLException {
    name = "bench-" + (round++);
    DelayedRecheck scheduling = DelayedRecheck.builder(name, db).handler((k, a) -> RecheckResult.resolved()).build();
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < CHECKS; i++) {
        scheduling.schedule(c, "order-" + i, Duration.ZERO);
      }
      try (Statement s = c.createStatement()) {
        s.execute("DELETE FROM baseline");
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO baseline (id, status, due_at) VALUES (?, 0, 0)")) {
        for (int i = 0; i < CHECKS; i++) {
          ps.setLong(1, i);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      c.commit();
    }
  }

  @TearDown(Level.Invocation)
  public void closeScheduler() {
    if (recheck != null) {
      recheck.close();
      recheck = null;
    }
  }

  @Benchmark
  public long giftkitRecheckOneAtATime() throws InterruptedException {
    return run(1);
  }

  @Benchmark
  public long giftkitRecheckConcurrency16() throws InterruptedException {
    return run(LANES);
  }

  private long run(int concurrency) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(CHECKS);
    recheck = DelayedRecheck.builder(name, db).concurrency(concurrency).batchSize(500)
        .pollInterval(Duration.ofMillis(10)).handler((k, a) -> {
          done.countDown();
          return RecheckResult.resolved();
        }).build();
    recheck.start();
    done.await(10, TimeUnit.MINUTES);
    while (recheck.resolved() < CHECKS) {
      java.util.concurrent.locks.LockSupport.parkNanos(100_000); // the last outcomes' commits
    }
    return recheck.resolved();
  }

  /** The same two commits per row by hand, {@value #LANES} threads: the database's own rate for this work. */
  @Benchmark
  public long baselineTwoCommitsPerRow16Threads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(LANES);
    AtomicInteger next = new AtomicInteger();
    try {
      List<Future<Integer>> lanes = new ArrayList<>();
      for (int t = 0; t < LANES; t++) {
        lanes.add(pool.submit(() -> {
          int n = 0;
          try (Connection c = db.getConnection();
              PreparedStatement claim = c.prepareStatement("UPDATE baseline SET status = 1, due_at = ? WHERE id = ?");
              PreparedStatement resolve = c.prepareStatement("DELETE FROM baseline WHERE id = ?")) {
            for (int id = next.getAndIncrement(); id < CHECKS; id = next.getAndIncrement()) {
              claim.setLong(1, System.currentTimeMillis());
              claim.setLong(2, id);
              claim.executeUpdate(); // auto-commit: one commit
              resolve.setLong(1, id);
              resolve.executeUpdate(); // and the second
              n++;
            }
          }
          return n;
        }));
      }
      long total = 0;
      for (Future<Integer> f : lanes) {
        total += f.get();
      }
      return total;
    } finally {
      pool.shutdownNow();
    }
  }
}
