package io.giftkit.benchmarks.coord;

import io.giftkit.cache.RedisLock;
import io.giftkit.coord.EtcdLock;
import io.giftkit.coord.EtcdLocks;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One uncontended acquire and release, 1 thread: {@code EtcdLocks.tryLock} + {@code close()} on an
 * etcd member this benchmark starts itself (lease grant, v3lock, a read of the key for the fencing
 * token, lease revoke: four round trips, three of them writes through Raft) against giftkit-cache's
 * {@code RedisLock.tryAcquire} + {@code close()} on the local Redis ({@code SET NX PX}, then a
 * compare-and-delete script: two round trips, no fencing token). The price of the fencing token and
 * the quorum, per lock.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LockBenchmark {

  private EtcdFixture etcd;
  private EtcdLocks locks;
  private RedisClient redis;
  private StatefulRedisConnection<String, String> connection;
  private RedisLock redisLock;

  @Setup(Level.Trial)
  public void setUp() {
    etcd = new EtcdFixture();
    locks = EtcdLocks.builder(etcd.client()).leaseTtl(Duration.ofSeconds(10)).build();
    String url = System.getenv().getOrDefault("GIFTKIT_REDIS_URL", "redis://127.0.0.1:6379");
    RedisURI uri = RedisURI.create(url);
    uri.setTimeout(Duration.ofSeconds(2));
    redis = RedisClient.create(uri);
    connection = redis.connect();
    redisLock = new RedisLock(connection, "gk-bench-lock-" + System.nanoTime() + ":");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    try {
      locks.close();
      connection.close();
      redis.shutdown();
    } finally {
      etcd.close();
    }
  }

  @Benchmark
  public void etcdLockAcquireRelease(Blackhole bh) {
    try (EtcdLock lock = locks.tryLock("bench", Duration.ofSeconds(5)).orElseThrow()) {
      bh.consume(lock.fencingToken());
    }
  }

  @Benchmark
  public void redisLockAcquireRelease(Blackhole bh) {
    try (RedisLock.Lease lease = redisLock.tryAcquire("bench", Duration.ofSeconds(10)).orElseThrow()) {
      bh.consume(lease.key());
    }
  }
}
