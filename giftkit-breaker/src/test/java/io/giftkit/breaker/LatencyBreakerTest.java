package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.breaker.BreakerResult.Source;
import io.giftkit.breaker.CircuitBreaker.State;
import io.giftkit.core.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LatencyBreakerTest {

  private final FakeTicker ticker = new FakeTicker();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final CountDownLatch never = new CountDownLatch(1);

  @AfterEach
  void tearDown() throws Exception {
    never.countDown(); // frees any call a test left hanging
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private LatencyBreaker<String> breaker(BreakerConfig config) {
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("privileged")
        .config(config).defaultValue("default").ticker(ticker).build();
    toClose.add(b);
    return b;
  }

  private static BreakerConfig budget(Duration timeout) {
    return BreakerConfig.builder().timeout(timeout).build();
  }

  private Supplier<String> hangs(AtomicBoolean finished) {
    return () -> {
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      finished.set(true);
      return "too late";
    };
  }

  private static Supplier<String> failing() {
    return () -> {
      throw new IllegalStateException("privileged service down");
    };
  }

  @Test
  void freshValueWhenTheCallAnswersInTime() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofSeconds(5)));
    BreakerResult<String> r = b.call("uid-1", () -> "gold");
    assertThat(r.value()).isEqualTo("gold");
    assertThat(r.source()).isEqualTo(Source.FRESH);
    assertThat(r.outcome()).isEqualTo(CallOutcome.SUCCESS);
    assertThat(r.isFresh()).isTrue();
    assertThat(b.lastGood("uid-1")).contains("gold");
  }

  @Test
  void budgetCutsOffTheCallerWhileTheCallIsStillRunning() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofMillis(50)));
    AtomicBoolean finished = new AtomicBoolean();
    long start = System.nanoTime();
    BreakerResult<String> r = b.call("uid-1", hangs(finished));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThat(finished).as("the caller returned before the call finished").isFalse();
    assertThat(r.source()).isEqualTo(Source.DEFAULT);
    assertThat(r.outcome()).isEqualTo(CallOutcome.TIMEOUT);
    assertThat(r.value()).isEqualTo("default");
    assertThat(elapsedMs).isGreaterThanOrEqualTo(49).isLessThan(5_000); // generous: the CPU is shared
    assertThat(b.snapshot().total(CallOutcome.TIMEOUT)).isEqualTo(1);
    assertThat(b.snapshot().failuresInWindow()).isEqualTo(1);
  }

  @Test
  void anInterruptedCallerStopsWaitingAtOnceAndKeepsItsInterruptFlag() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofSeconds(30)));
    AtomicBoolean finished = new AtomicBoolean();
    Thread.currentThread().interrupt();
    try {
      long start = System.nanoTime();
      BreakerResult<String> r = b.call("uid-1", hangs(finished));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(r.outcome()).isEqualTo(CallOutcome.TIMEOUT);
      assertThat(r.value()).isEqualTo("default");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted(); // leave the test thread clean
    }
  }

  @Test
  void aLateAnswerRefreshesTheCacheButIsNotAwaited() throws Exception {
    LatencyBreaker<String> b = breaker(budget(Duration.ofMillis(50)));
    CountDownLatch release = new CountDownLatch(1);
    BreakerResult<String> r = b.call("uid-7", () -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "late gold";
    });
    assertThat(r.outcome()).isEqualTo(CallOutcome.TIMEOUT);
    assertThat(b.lastGood("uid-7")).isEmpty();

    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> b.lastGood("uid-7").isPresent());
    assertThat(b.lastGood("uid-7")).contains("late gold");
    assertThat(b.snapshot().lateAnswers()).isEqualTo(1);
    assertThat(b.snapshot().total(CallOutcome.SUCCESS)).as("a late answer is not a success").isZero();

    BreakerResult<String> next = b.call("uid-7", failing());
    assertThat(next.value()).isEqualTo("late gold");
    assertThat(next.source()).isEqualTo(Source.CACHED);
    assertThat(next.outcome()).isEqualTo(CallOutcome.FAILURE);
  }

  @Test
  void fallbacksArePerKey() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofSeconds(5)));
    b.call("uid-a", () -> "a's gifts");
    assertThat(b.call("uid-b", failing()).source()).isEqualTo(Source.DEFAULT);
    assertThat(b.call("uid-b", failing()).value()).isEqualTo("default");
    BreakerResult<String> a = b.call("uid-a", failing());
    assertThat(a.value()).isEqualTo("a's gifts");
    assertThat(a.source()).isEqualTo(Source.CACHED);
    assertThat(b.snapshot().fallbacksCached()).isEqualTo(1);
    assertThat(b.snapshot().fallbacksDefault()).isEqualTo(2);
  }

  @Test
  void lastGoodValuesExpireAfterTheirTtl() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder()
        .timeout(Duration.ofSeconds(5)).fallbackCache(100, Duration.ofMinutes(1)).build());
    b.call("uid-a", () -> "a");
    ticker.advance(Duration.ofSeconds(59));
    assertThat(b.call("uid-a", failing()).source()).isEqualTo(Source.CACHED);
    ticker.advance(Duration.ofSeconds(2));
    assertThat(b.call("uid-a", failing()).source()).isEqualTo(Source.DEFAULT);
  }

  @Test
  void aFallbackCacheOfSizeZeroNeverHandsAnEarlierAnswerToALaterCall() {
    // a write call (a payment): an earlier order's TRUE must never answer for this one
    LatencyBreaker<String> b = breaker(BreakerConfig.builder()
        .timeout(Duration.ofSeconds(5)).fallbackCache(0, Duration.ofMinutes(1)).build());
    assertThat(b.call(() -> "charged order 1").source()).isEqualTo(Source.FRESH);
    BreakerResult<String> r = b.call(failing());
    assertThat(r.source()).isEqualTo(Source.DEFAULT);
    assertThat(r.value()).isEqualTo("default");
    assertThat(b.lastGood("any")).isEmpty();
    b.circuitBreaker().forceOpen();
    assertThat(b.call(() -> "never called").value()).isEqualTo("default");
  }

  @Test
  void reconfiguringTheFallbackCacheToZeroDropsWhatWasKept() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofSeconds(5)));
    b.call("uid-a", () -> "a");
    b.reconfigure(BreakerConfig.builder().timeout(Duration.ofSeconds(5)).fallbackCache(0, Duration.ofMinutes(1)).build());
    assertThat(b.call("uid-a", failing()).source()).isEqualTo(Source.DEFAULT);
  }

  @Test
  void equalAnswersRefreshTheTtlAtMostEveryQuarterTtl() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder()
        .timeout(Duration.ofSeconds(5)).fallbackCache(100, Duration.ofMinutes(4)).build());
    b.call("uid-a", () -> "a");
    ticker.advance(Duration.ofSeconds(59));
    b.call("uid-a", () -> "a"); // equal, kept 59 s ago (< 1 min): not rewritten
    ticker.advance(Duration.ofSeconds(2));
    b.call("uid-a", () -> "a"); // kept 61 s ago: rewritten, expires 4 min from now
    ticker.advance(Duration.ofMinutes(3).plusSeconds(59));
    assertThat(b.call("uid-a", failing()).source()).isEqualTo(Source.CACHED);
    ticker.advance(Duration.ofSeconds(2));
    assertThat(b.call("uid-a", failing()).source()).isEqualTo(Source.DEFAULT);
    b.call("uid-a", () -> "a");
    b.call("uid-a", () -> "b"); // a different answer is always written
    assertThat(b.lastGood("uid-a")).contains("b");
  }

  @Test
  void aThrowingFallbackFunctionIsLoggedAndTheDefaultServed() {
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("fb").config(budget(Duration.ofSeconds(5)))
        .defaultValue("default").fallback(key -> {
          if ("uid-bad".equals(key)) {
            throw new IllegalStateException("fallback bug");
          }
          return "computed for " + key;
        }).build();
    toClose.add(b);
    assertThat(b.call("uid-ok", failing()).value()).isEqualTo("computed for uid-ok");
    BreakerResult<String> r = b.call("uid-bad", failing());
    assertThat(r.value()).isEqualTo("default");
    assertThat(r.source()).isEqualTo(Source.DEFAULT);
  }

  @Test
  void anOpenBreakerServesTheLastGoodValueWithoutCalling() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder().timeout(Duration.ofSeconds(5)).minimumCalls(4).build());
    b.call("uid-a", () -> "a");
    for (int i = 0; i < 3; i++) {
      b.call("uid-a", failing());
    }
    assertThat(b.circuitBreaker().state()).isEqualTo(State.OPEN);
    AtomicInteger calls = new AtomicInteger();
    BreakerResult<String> r = b.call("uid-a", () -> "fresh-" + calls.incrementAndGet());
    assertThat(calls).hasValue(0);
    assertThat(r.value()).isEqualTo("a");
    assertThat(r.source()).isEqualTo(Source.CACHED);
    assertThat(r.outcome()).isEqualTo(CallOutcome.OPEN);
    assertThat(b.call("uid-z", () -> "z").source()).isEqualTo(Source.DEFAULT);
  }

  /** Resilience4j #903/#935, Sentinel #1638: a probe that never returns must not wedge half-open. */
  @Test
  void aHungProbeIsCutOffByTheBudgetAndReopensTheBreaker() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder()
        .timeout(Duration.ofMillis(50)).minimumCalls(2).halfOpenProbes(1).build());
    b.call("k", failing());
    b.call("k", failing());
    assertThat(b.circuitBreaker().state()).isEqualTo(State.OPEN);
    ticker.advance(Duration.ofSeconds(5));

    AtomicBoolean finished = new AtomicBoolean();
    BreakerResult<String> probe = b.call("k", hangs(finished));
    assertThat(finished).isFalse();
    assertThat(probe.outcome()).isEqualTo(CallOutcome.TIMEOUT);
    assertThat(b.circuitBreaker().state()).as("the hung probe counted as a failure").isEqualTo(State.OPEN);

    ticker.advance(Duration.ofSeconds(5));
    assertThat(b.call("k", () -> "back").source()).isEqualTo(Source.FRESH);
    assertThat(b.circuitBreaker().state()).isEqualTo(State.CLOSED);
  }

  @Test
  void aFullPoolIsAFailureServedWithTheFallback() throws Exception {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES, new SynchronousQueue<>());
    toClose.add(pool::shutdownNow);
    CountDownLatch occupied = new CountDownLatch(1);
    pool.execute(() -> {
      occupied.countDown();
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    occupied.await();
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("pool").config(budget(Duration.ofSeconds(5)))
        .defaultValue("default").executor(pool).build();
    BreakerResult<String> r = b.call("k", () -> "never runs");
    assertThat(r.outcome()).isEqualTo(CallOutcome.POOL_FULL);
    assertThat(r.value()).isEqualTo("default");
    assertThat(b.snapshot().failuresInWindow()).isEqualTo(1);
    b.close();
    assertThat(pool.isShutdown()).as("a caller-owned executor is not shut down").isFalse();
  }

  @Test
  void rateLimitedCallsGetTheFallback() {
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("limited").config(budget(Duration.ofSeconds(5)))
        .defaultValue("default").ticker(ticker).rateLimiter(RateLimiter.of(10, 2, ticker)).build();
    toClose.add(b);
    assertThat(b.call("k", () -> "1").source()).isEqualTo(Source.FRESH);
    assertThat(b.call("k", () -> "2").source()).isEqualTo(Source.FRESH);
    BreakerResult<String> r = b.call("k", () -> "3");
    assertThat(r.outcome()).isEqualTo(CallOutcome.RATE_LIMITED);
    assertThat(r.value()).isEqualTo("2");
    ticker.advance(Duration.ofMillis(100));
    assertThat(b.call("k", () -> "4").source()).isEqualTo(Source.FRESH);
    assertThat(b.snapshot().total(CallOutcome.RATE_LIMITED)).isEqualTo(1);
  }

  @Test
  void perKeyLimitsIsolateKeys() {
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("keyed").config(budget(Duration.ofSeconds(5)))
        .defaultValue("default").ticker(ticker)
        .keyedRateLimiter(KeyedRateLimiter.of(1, 1, 1_000, Duration.ofMinutes(1), ticker)).build();
    toClose.add(b);
    assertThat(b.call("uid-1", () -> "x").source()).isEqualTo(Source.FRESH);
    assertThat(b.call("uid-1", () -> "y").outcome()).isEqualTo(CallOutcome.RATE_LIMITED);
    assertThat(b.call("uid-2", () -> "z").source()).isEqualTo(Source.FRESH);
  }

  @Test
  void adaptiveThrottlingRejectsLocallyWhileTheDependencyFails() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder().timeout(Duration.ofSeconds(5))
        .failureRateThreshold(100).minimumCalls(1_000_000).adaptiveThrottling(true, 2).build());
    for (int i = 0; i < 200; i++) {
      b.call("k", failing());
      ticker.advance(Duration.ofMillis(1));
    }
    int throttled = 0;
    for (int i = 0; i < 1_000; i++) {
      if (b.call("k", failing()).outcome() == CallOutcome.THROTTLED) {
        throttled++;
      }
      ticker.advance(Duration.ofMillis(1));
    }
    // requests grow, accepts stay 0: p = requests / (requests + 1) > 0.99
    assertThat(throttled).isGreaterThan(950);
    assertThat(b.snapshot().total(CallOutcome.THROTTLED)).isGreaterThanOrEqualTo(throttled);
  }

  @Test
  void adaptiveThrottlingLetsEverythingThroughWhileTheDependencyAnswers() {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder().timeout(Duration.ofSeconds(5))
        .adaptiveThrottling(true, 2).build());
    for (int i = 0; i < 500; i++) {
      assertThat(b.call("k", () -> "ok").outcome()).isEqualTo(CallOutcome.SUCCESS);
      ticker.advance(Duration.ofMillis(1));
    }
  }

  @Test
  void asyncCallsAreCutOffByTheBudgetToo() throws Exception {
    LatencyBreaker<String> b = breaker(budget(Duration.ofMillis(50)));
    CompletableFuture<String> neverCompletes = new CompletableFuture<>();
    BreakerResult<String> r = b.callAsync("uid-1", () -> neverCompletes).get(10, TimeUnit.SECONDS);
    assertThat(r.outcome()).isEqualTo(CallOutcome.TIMEOUT);
    assertThat(r.value()).isEqualTo("default");

    neverCompletes.complete("late");
    assertThat(b.lastGood("uid-1")).contains("late");

    assertThat(b.callAsync("uid-2", () -> CompletableFuture.completedFuture("now")).get(10, TimeUnit.SECONDS).source())
        .isEqualTo(Source.FRESH);
    assertThat(b.callAsync("uid-2", () -> CompletableFuture.failedFuture(new IllegalStateException("x")))
        .get(10, TimeUnit.SECONDS).source()).isEqualTo(Source.CACHED);
    assertThat(b.callAsync("uid-3", () -> {
      throw new IllegalStateException("could not even start");
    }).get(10, TimeUnit.SECONDS).outcome()).isEqualTo(CallOutcome.FAILURE);
  }

  @Test
  void manyAsyncCallsAllExpireInBudgetOrder() throws Exception {
    LatencyBreaker<String> b = breaker(BreakerConfig.builder().timeout(Duration.ofMillis(20))
        .failureRateThreshold(100).minimumCalls(1_000_000).build());
    List<CompletableFuture<BreakerResult<String>>> futures = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      CompletableFuture<String> stage = new CompletableFuture<>();
      if (i % 2 == 0) {
        stage.complete("v" + i);
      }
      futures.add(b.callAsync("k" + i, () -> stage));
    }
    int fresh = 0;
    int timedOut = 0;
    for (CompletableFuture<BreakerResult<String>> f : futures) {
      BreakerResult<String> r = f.get(30, TimeUnit.SECONDS);
      if (r.outcome() == CallOutcome.SUCCESS) {
        fresh++;
      } else if (r.outcome() == CallOutcome.TIMEOUT) {
        timedOut++;
      }
    }
    assertThat(fresh).isEqualTo(1_000);
    assertThat(timedOut).isEqualTo(1_000);
  }

  @Test
  void reconfiguringTheBudgetTakesEffectWithoutANewInstance() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofMillis(20)));
    CountDownLatch slow = new CountDownLatch(1);
    Supplier<String> waitsForLatch = () -> {
      try {
        slow.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "slow but fine";
    };
    assertThat(b.call("k", waitsForLatch).outcome()).isEqualTo(CallOutcome.TIMEOUT);
    b.reconfigure(budget(Duration.ofSeconds(30)));
    assertThat(b.circuitBreaker().config().timeout()).isEqualTo(Duration.ofSeconds(30));
    ExecutorService releaser = Executors.newSingleThreadExecutor();
    toClose.add(releaser::shutdownNow);
    releaser.execute(slow::countDown);
    assertThat(b.call("k", waitsForLatch).source()).isEqualTo(Source.FRESH);
  }

  @Test
  void nullArgumentsAreRejectedByName() {
    LatencyBreaker<String> b = breaker(BreakerConfig.ofDefaults());
    assertThatThrownBy(() -> b.call(null, () -> "x")).isInstanceOf(NullPointerException.class).hasMessage("key");
    assertThatThrownBy(() -> b.call("k", null)).isInstanceOf(NullPointerException.class).hasMessage("call");
    assertThatThrownBy(() -> b.callAsync(null, () -> null)).hasMessage("key");
    assertThatThrownBy(() -> LatencyBreaker.builder(" ")).hasMessage("name must not be blank, but was \" \"");
  }

  @Test
  void aThrowingListenerNeverBreaksACall() {
    LatencyBreaker<String> b = breaker(budget(Duration.ofSeconds(5)));
    b.addListener(new BreakerListener() {
      @Override
      public void onCall(String name, CallOutcome outcome, long durationNanos) {
        throw new IllegalStateException("listener bug");
      }
    });
    assertThat(b.call("k", () -> "ok").value()).isEqualTo("ok");
    assertThat(b.call("k", failing()).value()).isEqualTo("ok");
  }

  /**
   * 8 threads, 4,000 calls each, a quarter failing: every outcome is counted exactly once, in the
   * snapshot and by a listener, and every failure was served a fallback.
   */
  @Test
  void concurrentCallsAreCountedExactly() throws Exception {
    LatencyBreaker<String> b = LatencyBreaker.<String>builder("stress")
        .config(BreakerConfig.builder().timeout(Duration.ofSeconds(30)).failureRateThreshold(100).build())
        .defaultValue("default").maxConcurrentCalls(16).build();
    toClose.add(b);
    Map<CallOutcome, LongAdder> heard = new EnumMap<>(CallOutcome.class);
    for (CallOutcome o : CallOutcome.values()) {
      heard.put(o, new LongAdder());
    }
    b.addListener(new BreakerListener() {
      @Override
      public void onCall(String name, CallOutcome outcome, long durationNanos) {
        heard.get(outcome).increment();
      }
    });
    int threads = 8;
    int perThread = 4_000;
    ExecutorService callers = Executors.newFixedThreadPool(threads);
    toClose.add(callers::shutdownNow);
    CountDownLatch start = new CountDownLatch(1);
    LongAdder fresh = new LongAdder();
    LongAdder fellBack = new LongAdder();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      futures.add(callers.submit(() -> {
        start.await();
        for (int i = 0; i < perThread; i++) {
          String key = "uid-" + thread + "-" + (i % 50);
          boolean fail = i % 4 == 0;
          BreakerResult<String> r = b.call(key, fail ? failing() : () -> "v");
          if (r.isFresh()) {
            fresh.increment();
          } else {
            assertThat(r.outcome()).isEqualTo(CallOutcome.FAILURE);
            fellBack.increment();
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(120, TimeUnit.SECONDS);
    }
    long total = (long) threads * perThread;
    BreakerSnapshot s = b.snapshot();
    assertThat(fresh.sum()).isEqualTo(total * 3 / 4);
    assertThat(fellBack.sum()).isEqualTo(total / 4);
    assertThat(s.total(CallOutcome.SUCCESS)).isEqualTo(total * 3 / 4);
    assertThat(s.total(CallOutcome.FAILURE)).isEqualTo(total / 4);
    assertThat(s.fallbacksCached() + s.fallbacksDefault()).isEqualTo(total / 4);
    assertThat(heard.get(CallOutcome.SUCCESS).sum()).isEqualTo(total * 3 / 4);
    assertThat(heard.get(CallOutcome.FAILURE).sum()).isEqualTo(total / 4);
    assertThat(s.state()).isEqualTo(State.CLOSED);
  }
}
