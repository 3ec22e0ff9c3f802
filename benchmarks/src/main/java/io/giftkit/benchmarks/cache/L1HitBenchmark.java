package io.giftkit.benchmarks.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.cache.HotKeyDetector;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.lettuce.core.RedisClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * An L1 hit through {@link TieredCache#get} against Caffeine's own {@code getIfPresent} on a cache
 * configured as a user would (size bound, expire after write). 2 threads, 1,000 keys all in L1.
 * Needs Redis (the cache opens its connections; hits never touch it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class L1HitBenchmark {

  private static final int KEYS = 1_024;

  private RedisClient client;
  private TieredCache<Long, String> giftkit;
  private TieredCache<Long, String> giftkitHotOnly;
  private Cache<Long, String> caffeine;

  /** Each thread walks the keys. */
  @State(Scope.Thread)
  public static class Cursor {
    long i;
  }

  @Setup
  public void setUp() {
    client = RedisFixture.client();
    String prefix = "gk-bench:l1:" + System.nanoTime();
    giftkit = TieredCache.<Long, String>builder("l1-bench", client).keyPrefix(prefix)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id)
        .l1(10_000, Duration.ofMinutes(10)).build();
    HotKeyDetector<Long> detector = HotKeyDetector.<Long>builder().hotWhenCountAtLeast(10).maxHotKeys(2_048).build();
    giftkitHotOnly = TieredCache.<Long, String>builder("l1-bench-hot", client).keyPrefix(prefix + ":hot")
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id)
        .l1(10_000, Duration.ofMinutes(10)).refreshAhead(1.0)
        .l1Policy(TieredCache.L1Policy.HOT_ONLY, detector).build();
    caffeine = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofMinutes(10)).build();
    for (long k = 0; k < KEYS; k++) {
      for (int i = 0; i < 20; i++) {
        giftkit.get(k);
        giftkitHotOnly.get(k);
      }
      caffeine.put(k, "room-" + k);
      if (!giftkit.inL1(k) || !giftkitHotOnly.inL1(k)) {
        throw new IllegalStateException("key " + k + " did not reach L1");
      }
    }
  }

  @TearDown
  public void tearDown() {
    giftkit.close();
    giftkitHotOnly.close();
    client.shutdown();
  }

  @Benchmark
  public String giftkitL1Hit(Cursor c) {
    return giftkit.get(c.i++ & (KEYS - 1));
  }

  @Benchmark
  public String giftkitL1HitHotOnly(Cursor c) {
    return giftkitHotOnly.get(c.i++ & (KEYS - 1));
  }

  @Benchmark
  public String caffeineGetIfPresent(Cursor c) {
    return caffeine.getIfPresent(c.i++ & (KEYS - 1));
  }
}
