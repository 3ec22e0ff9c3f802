package io.giftkit.benchmarks.cache;

import io.giftkit.cache.HotKeyDetector;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * The hot-key cliff (issue #17, item 9): {@code HotKeyDetector.record()} on 2 threads over 10,000
 * uniformly warm keys, ten times {@code maxHotKeys} (1,000). Every key holds 0.01% of the traffic and
 * the threshold is 0.005%, so every key is over it: the hot set stays full and every record of the
 * 9,000 keys outside it is a candidate for promotion (a big event with thousands of warm rooms). The
 * sibling of {@link HotKeyBenchmark} (Zipf(1.0) over 1M keys, about 70 keys over the threshold);
 * exact counting is measured on the same stream. The trial prints the detector's promotions and
 * demotions, to show how little the hot set churns among equally warm keys (a few swaps a trial
 * counting every record; a few hundred with sampling, whose noise makes some keys look 1.5 times as
 * warm as the coldest).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HotKeyWarmBenchmark {

  static final int WARM_KEYS = 10_000;
  static final int MAX_HOT_KEYS = 1_000;
  static final double HOT_SHARE = 0.00005;
  private static final int LENGTH = 1 << 20;
  private static final int MASK = LENGTH - 1;

  private Long[] stream;
  private HotKeyDetector<Long> detector;
  private HotKeyDetector<Long> sampled;
  private HotKeyDetector<Long> sampled4;
  private ConcurrentHashMap<Long, LongAdder> exact;

  /** Each thread walks the stream from its own offset. */
  @State(Scope.Thread)
  public static class Cursor {
    int i = new SplittableRandom().nextInt(LENGTH);
  }

  @Setup(Level.Trial)
  public void setUp() {
    stream = uniformStream(LENGTH, WARM_KEYS, 42);
    detector = detector(1);
    sampled = detector(8);
    sampled4 = detector(4);
    exact = new ConcurrentHashMap<>();
  }

  private static HotKeyDetector<Long> detector(int sampleOneIn) {
    return HotKeyDetector.<Long>builder().hotWhenShareAtLeast(HOT_SHARE).maxHotKeys(MAX_HOT_KEYS)
        .sampleOneIn(sampleOneIn).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    report("every record", detector);
    report("1 in 4", sampled4);
    report("1 in 8", sampled);
  }

  private static void report(String name, HotKeyDetector<Long> d) {
    if (d.promotions() > 0) {
      System.out.printf("%n[warm] %s: %d hot now, %d promotions, %d demotions%n", name, d.hotKeys().size(),
          d.promotions(), d.demotions());
    }
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

  /** {@code length} keys drawn uniformly from 1..n, each boxed apart (as {@link HotKeyBenchmark}'s). */
  static Long[] uniformStream(int length, int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Long[] keys = new Long[length];
    for (int i = 0; i < length; i++) {
      keys[i] = Long.valueOf(random.nextInt(n) + 1L);
    }
    return keys;
  }
}
