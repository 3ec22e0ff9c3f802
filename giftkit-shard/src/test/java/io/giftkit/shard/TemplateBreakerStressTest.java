package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.core.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * 8 threads call one (template, shard) breaker 100,000 times each, 60 % of calls slow, while they
 * move a shared fake clock: the breaker trips, cools down, probes and closes over and over.
 */
class TemplateBreakerStressTest {

  static final int THREADS = 8;
  static final int CALLS = 100_000;
  static final int PROBES = 2;

  @Test
  void everyTransitionIsReportedOnceInAValidChainAndHalfOpenLetsThroughAtMostTheProbes() throws Exception {
    FakeTicker ticker = new FakeTicker();
    long slowNanos = Duration.ofMillis(1).toNanos();
    SlowSqlBreakerConfig config = SlowSqlBreakerConfig.builder().slowCallRateThreshold(50).minimumCalls(5)
        .window(Duration.ofMillis(100)).openDuration(Duration.ofMillis(10)).halfOpenProbes(PROBES).build();
    Map<Long, SlowSqlBreakerState[]> transitions = new ConcurrentHashMap<>(); // generation -> {from, to}
    List<String> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
    TemplateBreaker breaker = new TemplateBreaker("T", 0, config, ticker, (b, from, to, rate, generation) -> {
      if (transitions.putIfAbsent(generation, new SlowSqlBreakerState[] {from, to}) != null) {
        duplicates.add(from + ">" + to + "#" + generation);
      }
    });
    Map<Long, LongAdder> permits = new ConcurrentHashMap<>();
    AtomicLong rejected = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < CALLS; i++) {
          if (i % 64 == 0) {
            ticker.advanceNanos(random.nextLong(2_000_000));
          }
          long permit;
          try {
            permit = breaker.acquire(slowNanos);
          } catch (SlowSqlRejectedException e) {
            rejected.incrementAndGet();
            continue;
          }
          permits.computeIfAbsent(permit, g -> new LongAdder()).increment();
          breaker.record(permit, random.nextInt(100) < 60);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(2, TimeUnit.MINUTES);
    }
    pool.shutdown();

    assertThat(duplicates).as("no transition reported twice").isEmpty();
    long last = transitions.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    SlowSqlBreakerState[] stateOf = new SlowSqlBreakerState[(int) last + 1];
    stateOf[0] = SlowSqlBreakerState.CLOSED;
    for (long g = 1; g <= last; g++) {
      SlowSqlBreakerState[] t = transitions.get(g);
      assertThat(t).as("a transition reported for every generation, none skipped: %s", g).isNotNull();
      assertThat(t[0]).as("transition #%s starts where the one before ended", g).isEqualTo(stateOf[(int) g - 1]);
      stateOf[(int) g] = t[1];
    }
    assertThat(stateOf[(int) last]).isEqualTo(breaker.state());
    long trips = transitions.values().stream().filter(t -> t[0] == SlowSqlBreakerState.CLOSED).count();
    long closes = transitions.values().stream().filter(t -> t[1] == SlowSqlBreakerState.CLOSED).count();
    assertThat(trips).as("it tripped many times").isGreaterThan(50);
    assertThat(closes).as("and closed again many times").isGreaterThan(10);
    permits.forEach((generation, n) -> {
      SlowSqlBreakerState s = stateOf[generation.intValue()];
      assertThat(s).as("no permit while OPEN").isNotEqualTo(SlowSqlBreakerState.OPEN);
      if (s == SlowSqlBreakerState.HALF_OPEN) {
        assertThat(n.sum()).as("permits of half-open generation %s", generation).isLessThanOrEqualTo(PROBES);
      }
    });
    long granted = permits.values().stream().mapToLong(LongAdder::sum).sum();
    assertThat(granted + rejected.get()).isEqualTo((long) THREADS * CALLS);
    assertThat(breaker.rejections()).isEqualTo(rejected.get()).isPositive();
  }
}
