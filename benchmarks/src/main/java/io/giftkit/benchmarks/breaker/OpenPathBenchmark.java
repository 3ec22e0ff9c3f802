package io.giftkit.benchmarks.breaker;

import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.BreakerResult;
import io.giftkit.breaker.CircuitBreaker;
import io.giftkit.breaker.LatencyBreaker;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The open path: the dependency is down, the breaker is open, and the caller gets a fallback. For
 * Resilience4j and Sentinel that means catching their rejection exception (what a fallback
 * decorator does); GiftKit serves the fallback without throwing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpenPathBenchmark {

  private static final String FALLBACK_VALUE = "cached panel";
  private static final Supplier<String> CALL = () -> "fresh";
  private static final Supplier<String> FALLBACK = () -> FALLBACK_VALUE;
  private static final Supplier<String> FAILING = () -> {
    throw new IllegalStateException("down");
  };

  private CircuitBreaker giftkit;
  private LatencyBreaker<String> giftkitLatency;
  private io.github.resilience4j.circuitbreaker.CircuitBreaker r4j;

  @Setup
  public void setUp() {
    BreakerConfig config = BreakerConfig.builder().openDuration(Duration.ofMinutes(5)).build();
    giftkit = CircuitBreaker.of("open", config);
    for (int i = 0; i < 20; i++) {
      try {
        giftkit.execute(FAILING, FALLBACK);
      } catch (IllegalStateException expected) {
        // tripping it
      }
    }
    giftkitLatency = LatencyBreaker.<String>builder("open-latency").config(config).defaultValue("default").build();
    giftkitLatency.call("uid-1", CALL); // a last good value for the key
    for (int i = 0; i < 20; i++) {
      giftkitLatency.call("uid-1", FAILING);
    }
    r4j = Competitors.resilience4j("open", SlidingWindowSynchronizationStrategy.LOCK_FREE);
    r4j.transitionToOpenState();
    Competitors.sentinelRules("open");
    Competitors.tripSentinel("open");
    if (giftkit.state() != CircuitBreaker.State.OPEN
        || giftkitLatency.circuitBreaker().state() != CircuitBreaker.State.OPEN) {
      throw new IllegalStateException("GiftKit breakers did not trip");
    }
  }

  @TearDown
  public void tearDown() {
    giftkitLatency.close();
  }

  @Benchmark
  public String giftkit() {
    return giftkit.execute(CALL, FALLBACK);
  }

  @Benchmark
  public BreakerResult<String> giftkitLatencyBreakerCached() {
    return giftkitLatency.call("uid-1", CALL);
  }

  @Benchmark
  public String resilience4j() {
    try {
      return r4j.executeSupplier(CALL);
    } catch (CallNotPermittedException open) {
      return FALLBACK.get();
    }
  }

  @Benchmark
  public String sentinel() {
    return Competitors.sentinel("open", CALL, FALLBACK);
  }
}
