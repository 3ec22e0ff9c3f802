package io.giftkit.benchmarks.coord;

import io.giftkit.coord.Consistency;
import io.giftkit.coord.ConsistentKv;
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

/**
 * {@code ConsistentKv.get} of one key, 1 thread, on a one-member etcd this benchmark starts itself:
 * {@code LINEARIZABLE} (etcd's read index: the leader confirms it still leads before answering) against
 * {@code SERIALIZABLE} (the member answers from its own copy). On one member the read index needs no
 * peer, so this is the floor of the difference; across members it adds a round trip to the leader.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class KvReadBenchmark {

  private EtcdFixture etcd;
  private ConsistentKv kv;

  @Setup(Level.Trial)
  public void setUp() {
    etcd = new EtcdFixture();
    kv = ConsistentKv.builder(etcd.client()).keyPrefix("bench/").build();
    kv.put("room:42:owner", "site-a");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    etcd.close();
  }

  @Benchmark
  public Object linearizableGet() {
    return kv.get("room:42:owner", Consistency.LINEARIZABLE);
  }

  @Benchmark
  public Object serializableGet() {
    return kv.get("room:42:owner", Consistency.SERIALIZABLE);
  }
}
