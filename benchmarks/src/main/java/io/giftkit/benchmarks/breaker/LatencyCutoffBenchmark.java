package io.giftkit.benchmarks.breaker;

import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.BreakerResult;
import io.giftkit.breaker.LatencyBreaker;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.github.resilience4j.timelimiter.TimeLimiterConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The latency budget. {@code slow*}: a synchronous call that sleeps 200 ms under a 50 ms budget;
 * the score distribution (SampleTime mode) is the caller's time to fallback. {@code fast*}: a call
 * that answers at once ({@code consumeCPU(100)}), the cost of running it budgeted. The competitor
 * is Resilience4j's TimeLimiter over a future from the same kind of pool (its documented way to
 * bound a synchronous call), not cancelling the running call, as GiftKit does not interrupt it.
 */
@State(Scope.Benchmark)
@Threads(2)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class LatencyCutoffBenchmark {

  private static final Supplier<String> SLOW = () -> {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "slow";
  };
  private static final Supplier<String> FAST = () -> {
    Blackhole.consumeCPU(100);
    return "fast";
  };

  private LatencyBreaker<String> giftkit;
  private ExecutorService r4jPool;
  private TimeLimiter r4j;

  @Setup
  public void setUp() {
    BreakerConfig config = BreakerConfig.builder()
        .timeout(Duration.ofMillis(50))
        .failureRateThreshold(100)
        .minimumCalls(Integer.MAX_VALUE) // never trip: every slow call must be cut off by the budget
        .build();
    giftkit = LatencyBreaker.<String>builder("cutoff").config(config).defaultValue("fallback")
        .maxConcurrentCalls(256).build();
    r4jPool = new ThreadPoolExecutor(256, 256, 30, TimeUnit.SECONDS, new SynchronousQueue<>());
    r4j = TimeLimiter.of(TimeLimiterConfig.custom()
        .timeoutDuration(Duration.ofMillis(50)).cancelRunningFuture(false).build());
  }

  @TearDown
  public void tearDown() {
    giftkit.close();
    r4jPool.shutdownNow();
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public BreakerResult<String> slowGiftkit() {
    return giftkit.call("uid-1", SLOW);
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public String slowResilience4jTimeLimiter() throws Exception {
    return r4jBudgeted(SLOW);
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public BreakerResult<String> fastGiftkit() {
    return giftkit.call("uid-1", FAST);
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public BreakerResult<String> fastGiftkitAsync() throws Exception {
    CompletableFuture<String> stage = new CompletableFuture<>();
    CompletableFuture<BreakerResult<String>> bounded = giftkit.callAsync("uid-1", () -> stage);
    stage.complete(FAST.get()); // completes after registration, as in fastOrTimeoutPerCall
    return bounded.get();
  }

  /**
   * The usual way to bound an asynchronous call: {@code orTimeout}, one scheduled task per call
   * (plus its cancellation), against which {@link #fastGiftkitAsync} and its shared FIFO deadline
   * queue are measured.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public String fastOrTimeoutPerCall() throws Exception {
    CompletableFuture<String> stage = new CompletableFuture<>();
    CompletableFuture<String> bounded = stage.orTimeout(50, TimeUnit.MILLISECONDS);
    stage.complete(FAST.get());
    return bounded.get();
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public String fastResilience4jTimeLimiter() throws Exception {
    return r4jBudgeted(FAST);
  }

  private String r4jBudgeted(Supplier<String> call) throws Exception {
    try {
      return r4j.executeFutureSupplier(() -> r4jPool.submit(call::get));
    } catch (TimeoutException timedOut) {
      return "fallback";
    }
  }
}
