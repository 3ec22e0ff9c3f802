package io.giftkit.benchmarks.cache;

import io.giftkit.cache.HotKeyDetector;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * {@code HotKeyDetector.record()} on 2 threads over a Zipf(1.0) stream of 1M distinct keys,
 * against exact counting (a {@code ConcurrentHashMap} of {@code LongAdder}s: what a user would write
 * without a sketch, and whose memory grows with every distinct key).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HotKeyBenchmark {

  static final int KEYS = 1 << 20;
  private static final int MASK = KEYS - 1;

  private Long[] stream;
  private HotKeyDetector<Long> detector;
  private HotKeyDetector<Long> sampled;
  private HotKeyDetector<Long> sampled4;
  private ConcurrentHashMap<Long, LongAdder> exact;

  /** Each thread walks the stream from its own offset. */
  @State(Scope.Thread)
  public static class Cursor {
    int i = new SplittableRandom().nextInt(KEYS);
  }

  @Setup
  public void setUp() {
    stream = zipfStream(KEYS, 1_000_000, 1.0, 42);
    detector = HotKeyDetector.<Long>builder().hotWhenShareAtLeast(0.001).build();
    sampled = HotKeyDetector.<Long>builder().hotWhenShareAtLeast(0.001).sampleOneIn(8).build();
    sampled4 = HotKeyDetector.<Long>builder().hotWhenShareAtLeast(0.001).sampleOneIn(4).build();
    exact = new ConcurrentHashMap<>();
  }

  @Benchmark
  public void giftkitRecord(Cursor c) {
    detector.record(stream[c.i++ & MASK]);
  }

  @Benchmark
  public void giftkitRecordSampled8(Cursor c) {
    sampled.record(stream[c.i++ & MASK]);
  }

  @Benchmark
  public void giftkitRecordSampled4(Cursor c) {
    sampled4.record(stream[c.i++ & MASK]);
  }

  @Benchmark
  public void exactCounting(Cursor c) {
    exact.computeIfAbsent(stream[c.i++ & MASK], k -> new LongAdder()).increment();
  }

  /** {@code length} keys drawn from Zipf(s) over ranks 1..n, boxed once. */
  static Long[] zipfStream(int length, int n, double s, long seed) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / Math.pow(i + 1, s);
      cdf[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cdf[i] /= sum;
    }
    SplittableRandom random = new SplittableRandom(seed);
    Long[] keys = new Long[length];
    for (int i = 0; i < length; i++) {
      int r = Arrays.binarySearch(cdf, random.nextDouble());
      keys[i] = (long) ((r >= 0 ? r : -r - 1) + 1);
    }
    return keys;
  }
}
