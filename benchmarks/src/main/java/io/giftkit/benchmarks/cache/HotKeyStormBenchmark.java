package io.giftkit.benchmarks.cache;

import io.giftkit.cache.CacheStats;
import io.giftkit.cache.HotKeyDetector;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.ValueCodec;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
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

/**
 * 64 threads read one hot room. {@code promoted}: the key lives in L1 (what hot-key promotion
 * gives); {@code notPromoted}: the detector never calls it hot, so every read misses L1 and goes
 * to Redis through the single-flight (concurrent reads share one GET); {@code rawLettuce}: every
 * read is its own Redis GET (no GiftKit). Reads per second; the Redis GETs each made are printed
 * at the end of each trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(64)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class HotKeyStormBenchmark {

  private RedisClient client;
  private TieredCache<Long, String> promoted;
  private TieredCache<Long, String> notPromoted;
  private StatefulRedisConnection<String, String> raw;
  private RedisCommands<String, String> rawCommands;
  private String rawKey;

  @Setup(Level.Trial)
  public void setUp() {
    client = RedisFixture.client();
    String prefix = "gk-bench:storm:" + System.nanoTime();
    promoted = TieredCache.<Long, String>builder("storm-promoted", client).keyPrefix(prefix + ":p")
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id)
        .l1(1_000, Duration.ofSeconds(5)).build();
    HotKeyDetector<Long> never = HotKeyDetector.<Long>builder().hotWhenCountAtLeast(Long.MAX_VALUE).build();
    notPromoted = TieredCache.<Long, String>builder("storm-not-promoted", client).keyPrefix(prefix + ":n")
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(id -> "room-" + id)
        .redisTimeout(Duration.ofSeconds(1))
        .l1Policy(TieredCache.L1Policy.HOT_ONLY, never).build();
    raw = client.connect();
    rawCommands = raw.sync();
    rawKey = prefix + ":raw:42";
    rawCommands.set(rawKey, "room-42");
    promoted.get(42L);
    notPromoted.get(42L);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    report("promoted", promoted.stats());
    report("notPromoted", notPromoted.stats());
    promoted.close();
    notPromoted.close();
    raw.close();
    client.shutdown();
  }

  private static void report(String name, CacheStats s) {
    long reads = s.l1Hits() + s.l1Misses();
    long redisGets = s.l2Hits() + s.l2Misses();
    System.out.printf("%n[storm] %s: %d reads, %d Redis GETs (%.4f per read), %d coalesced%n", name, reads, redisGets,
        reads == 0 ? 0.0 : (double) redisGets / reads, s.coalesced());
  }

  @Benchmark
  public String promoted() {
    return promoted.get(42L);
  }

  @Benchmark
  public String notPromoted() {
    return notPromoted.get(42L);
  }

  @Benchmark
  public String rawLettuce() {
    return rawCommands.get(rawKey);
  }
}
