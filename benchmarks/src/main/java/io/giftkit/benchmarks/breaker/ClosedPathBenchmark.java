package io.giftkit.benchmarks.breaker;

import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The closed path: a call that succeeds, through each breaker, on 2 threads, with a
 * {@code Blackhole.consumeCPU(100)} payload. Overhead = score minus {@code baseline}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ClosedPathBenchmark {

  private static final Object RESULT = new Object();
  private static final Supplier<Object> PAYLOAD = () -> {
    Blackhole.consumeCPU(100);
    return RESULT;
  };
  private static final Supplier<Object> FALLBACK = () -> null;

  private CircuitBreaker giftkit;
  private io.github.resilience4j.circuitbreaker.CircuitBreaker r4jSynchronized;
  private io.github.resilience4j.circuitbreaker.CircuitBreaker r4jLockFree;

  @Setup
  public void setUp() {
    giftkit = CircuitBreaker.of("closed", BreakerConfig.ofDefaults());
    r4jSynchronized = Competitors.resilience4j("closed-sync", SlidingWindowSynchronizationStrategy.SYNCHRONIZED);
    r4jLockFree = Competitors.resilience4j("closed-lockfree", SlidingWindowSynchronizationStrategy.LOCK_FREE);
    Competitors.sentinelRules("closed");
  }

  @Benchmark
  public Object baseline() {
    return PAYLOAD.get();
  }

  @Benchmark
  public Object giftkit() {
    return giftkit.execute(PAYLOAD, FALLBACK);
  }

  @Benchmark
  public Object resilience4jSynchronized() {
    return r4jSynchronized.executeSupplier(PAYLOAD);
  }

  @Benchmark
  public Object resilience4jLockFree() {
    return r4jLockFree.executeSupplier(PAYLOAD);
  }

  @Benchmark
  public Object sentinel() {
    return Competitors.sentinel("closed", PAYLOAD, FALLBACK);
  }
}
