package io.giftkit.benchmarks.cache;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.cache.SingleFlight;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
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

/**
 * Uncontended single-flight overhead: a load through {@link SingleFlight#get} against the same load
 * through Caffeine's {@code AsyncCache.get} (the coalescing users would otherwise reach for), each
 * call a miss on its own key so both run their full load path. One thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SingleFlightBenchmark {

  private static final Function<Long, String> LOADER = k -> "v";

  private SingleFlight<Long, String> flights;
  private AsyncCache<Long, String> caffeine;
  private long key;

  @Setup
  public void setUp() {
    flights = new SingleFlight<>("bench");
    // No entry may stay: a single-flight keeps nothing once loaded.
    caffeine = Caffeine.newBuilder().maximumSize(0).executor(Runnable::run).buildAsync();
  }

  @Benchmark
  public String giftkitSingleFlight() {
    return flights.get(key++, LOADER);
  }

  @Benchmark
  public String caffeineAsyncCacheGet() {
    return caffeine.get(key++, LOADER).join();
  }
}
