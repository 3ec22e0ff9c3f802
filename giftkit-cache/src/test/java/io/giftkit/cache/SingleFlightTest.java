package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.core.GiftkitTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SingleFlightTest {

  private final SingleFlight<String, String> flights = new SingleFlight<>("rooms");
  private final List<ExecutorService> pools = new ArrayList<>();

  private ExecutorService pool(int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    pools.add(pool);
    return pool;
  }

  @AfterEach
  void shutdown() {
    pools.forEach(ExecutorService::shutdownNow);
  }

  /** 1,000 threads ask for one key at once: the loader runs exactly once and all get its value. */
  @Test
  void aThousandConcurrentCallsLoadOnce() throws Exception {
    int threads = 1_000;
    AtomicInteger loaderRuns = new AtomicInteger();
    ExecutorService pool = pool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      results.add(pool.submit(() -> {
        start.await();
        return flights.get("room:42", key -> {
          loaderRuns.incrementAndGet();
          // Hold the load until every other caller is waiting on it.
          await().atMost(Duration.ofSeconds(60)).until(() -> flights.coalesced() == threads - 1);
          return "room 42 v1";
        });
      }));
    }
    start.countDown();
    for (Future<String> f : results) {
      assertThat(f.get(90, TimeUnit.SECONDS)).isEqualTo("room 42 v1");
    }
    assertThat(loaderRuns).hasValue(1);
    assertThat(flights.loads()).isEqualTo(1);
    assertThat(flights.coalesced()).isEqualTo(threads - 1);
    assertThat(flights.inFlight()).isZero();
  }

  @Test
  void nothingIsKeptAfterCompletion() {
    AtomicInteger runs = new AtomicInteger();
    assertThat(flights.get("k", key -> "v" + runs.incrementAndGet())).isEqualTo("v1");
    assertThat(flights.get("k", key -> "v" + runs.incrementAndGet())).isEqualTo("v2");
    assertThat(flights.inFlight()).isZero();
  }

  @Test
  void theLoadersExceptionReachesEveryWaiterAndTheNextCallRetries() throws Exception {
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    ExecutorService pool = pool(4);
    Future<String> leader = pool.submit(() -> flights.get("k", key -> {
      loading.countDown();
      try {
        fail.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("database down");
    }));
    loading.await();
    List<Future<String>> waiters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiters.add(pool.submit(() -> flights.get("k", key -> "must not run")));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> flights.coalesced() == 3);
    fail.countDown();
    for (Future<String> f : List.of(leader, waiters.get(0), waiters.get(1), waiters.get(2))) {
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
          .hasRootCauseMessage("database down");
    }
    assertThat(flights.inFlight()).as("no stale in-flight entry").isZero();
    assertThat(flights.get("k", key -> "recovered")).isEqualTo("recovered");
    assertThat(flights.loads()).isEqualTo(2);
  }

  @Test
  void aWaiterThatGivesUpNeitherCancelsTheLoadNorStartsAnother() throws Exception {
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = pool(1);
    Future<String> leader = pool.submit(() -> flights.get("k", key -> {
      loading.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "slow value";
    }));
    loading.await();
    assertThatThrownBy(() -> flights.get("k", key -> "duplicate load!", Duration.ofMillis(50)))
        .isInstanceOf(GiftkitTimeoutException.class)
        .hasMessageStartingWith("single-flight 'rooms' waiter timed out after 50ms (the shared load goes on");
    assertThat(flights.loads()).as("giving up started no second load").isEqualTo(1);
    assertThat(flights.inFlight()).isEqualTo(1);
    release.countDown();
    assertThat(leader.get(30, TimeUnit.SECONDS)).isEqualTo("slow value");
    assertThat(flights.waiterTimeouts()).isEqualTo(1);
  }

  @Test
  void asyncCallsShareOneLoadAndCancellingACopyDoesNotCancelIt() throws Exception {
    CompletableFuture<String> load = new CompletableFuture<>();
    AtomicInteger starts = new AtomicInteger();
    CompletableFuture<String> first = flights.getAsync("k", key -> {
      starts.incrementAndGet();
      return load;
    });
    CompletableFuture<String> second = flights.getAsync("k", key -> {
      starts.incrementAndGet();
      return CompletableFuture.completedFuture("duplicate");
    });
    second.cancel(true);
    CompletableFuture<String> third = flights.getAsync("k", key -> CompletableFuture.completedFuture("duplicate"));
    load.complete("shared");
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("shared");
    assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo("shared");
    assertThat(starts).hasValue(1);
    assertThat(flights.inFlight()).isZero();

    CompletableFuture<String> failing = flights.getAsync("f", key -> CompletableFuture.failedFuture(new IllegalStateException("x")));
    assertThatThrownBy(() -> failing.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    CompletableFuture<String> throwing = flights.getAsync("t", key -> {
      throw new IllegalArgumentException("could not start");
    });
    assertThatThrownBy(() -> throwing.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalArgumentException.class);
    assertThat(flights.inFlight()).isZero();
  }

  @Test
  void forgetLetsTheNextCallLoadAgainWhileOldWaitersKeepTheOldResult() throws Exception {
    CompletableFuture<String> oldLoad = new CompletableFuture<>();
    CompletableFuture<String> oldWaiter = flights.getAsync("k", key -> oldLoad);
    assertThat(flights.forget("k")).isTrue();
    CompletableFuture<String> fresh = flights.getAsync("k", key -> CompletableFuture.completedFuture("v2"));
    assertThat(fresh.get(10, TimeUnit.SECONDS)).isEqualTo("v2");
    oldLoad.complete("v1");
    assertThat(oldWaiter.get(10, TimeUnit.SECONDS)).isEqualTo("v1");
    assertThat(flights.loads()).isEqualTo(2);
    assertThat(flights.inFlight()).as("the old load's completion did not remove anything else").isZero();
    assertThat(flights.forget("k")).isFalse();
  }

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> flights.get(null, key -> "v")).isInstanceOf(NullPointerException.class).hasMessage("key");
    assertThatThrownBy(() -> flights.get("k", null)).isInstanceOf(NullPointerException.class).hasMessage("loader");
    assertThatThrownBy(() -> flights.get("k", key -> "v", Duration.ZERO))
        .hasMessage("timeout must be positive, but was 0ms");
    assertThatThrownBy(() -> new SingleFlight<String, String>(" ")).hasMessage("name must not be blank, but was \" \"");
  }
}
