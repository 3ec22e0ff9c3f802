package io.giftkit.benchmarks.shard;

import io.giftkit.shard.Route;
import io.giftkit.shard.ShardRouter;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code ShardRouter.route(uid, epochMillis)} against what a hand-written router does per call
 * (zone conversion and string formatting of the month). One thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RouteBenchmark {

  private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
  private ShardRouter router;
  private long uid;
  private long at;

  @Setup
  public void setUp() {
    router = ShardRouter.builder("gift_order").zone(ZONE).build();
    at = Instant.now().toEpochMilli();
  }

  @Benchmark
  public Route giftkitRoute() {
    return router.route(uid++, at);
  }

  @Benchmark
  public String handWritten() {
    ZonedDateTime t = Instant.ofEpochMilli(at).atZone(ZONE);
    YearMonth m = YearMonth.from(t);
    long u = uid++;
    return (u % 10) + ":gift_order_" + String.format("%04d%02d", m.getYear(), m.getMonthValue());
  }
}
