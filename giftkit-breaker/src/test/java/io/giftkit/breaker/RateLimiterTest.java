package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  private final FakeTicker ticker = new FakeTicker();

  @Test
  void burstThenSteadyRate() {
    RateLimiter limiter = RateLimiter.of(100, 5, ticker); // one permit per 10 ms
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.tryAcquire()).as("burst permit %d", i).isTrue();
    }
    assertThat(limiter.tryAcquire()).isFalse();
    ticker.advance(Duration.ofMillis(9));
    assertThat(limiter.tryAcquire()).isFalse();
    ticker.advance(Duration.ofMillis(1));
    assertThat(limiter.tryAcquire()).isTrue();
    assertThat(limiter.tryAcquire()).isFalse();

    ticker.advance(Duration.ofSeconds(10)); // a long quiet period refills the burst, no more
    int granted = 0;
    for (int i = 0; i < 100; i++) {
      granted += limiter.tryAcquire() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(5);
  }

  @Test
  void overOneSecondItGrantsTheRatePlusTheBurst() {
    RateLimiter limiter = RateLimiter.of(1_000, 50, ticker);
    int granted = 0;
    for (int ms = 0; ms < 1_000; ms++) {
      for (int i = 0; i < 10; i++) {
        granted += limiter.tryAcquire() ? 1 : 0;
      }
      ticker.advance(Duration.ofMillis(1));
    }
    assertThat(granted).isBetween(1_000 + 49, 1_000 + 50);
  }

  /** 8 threads race for permits while time stands still: exactly the burst is granted. */
  @Test
  void concurrentCallersNeverGetMoreThanTheBurst() throws Exception {
    RateLimiter limiter = RateLimiter.of(1, 1_000, ticker);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    LongAdder granted = new LongAdder();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 50_000; i++) {
          if (limiter.tryAcquire()) {
            granted.increment();
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(granted.sum()).isEqualTo(1_000);
  }

  @Test
  void keyedLimiterKeepsKeysApart() {
    KeyedRateLimiter<String> limiter = KeyedRateLimiter.of(1, 2, 100, Duration.ofMinutes(1), ticker);
    assertThat(limiter.tryAcquire("a")).isTrue();
    assertThat(limiter.tryAcquire("a")).isTrue();
    assertThat(limiter.tryAcquire("a")).isFalse();
    assertThat(limiter.tryAcquire("b")).isTrue();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(limiter.tryAcquire("a")).isTrue();
  }

  /** Resilience4j #1221, Sentinel #3388: per-key state that is never evicted. Ours is bounded. */
  @Test
  void keyedLimiterMemoryIsBoundedUnderAMillionDistinctKeys() {
    KeyedRateLimiter<Long> limiter = KeyedRateLimiter.of(10, 1, 10_000, Duration.ofMinutes(10), ticker);
    for (long uid = 0; uid < 1_000_000; uid++) {
      assertThat(limiter.tryAcquire(uid)).isTrue();
      if (uid % 100_000 == 0) {
        assertThat(limiter.size()).isLessThanOrEqualTo(10_000);
      }
    }
    assertThat(limiter.size()).isLessThanOrEqualTo(10_000);
  }

  @Test
  void idleKeysAreForgotten() {
    KeyedRateLimiter<String> limiter = KeyedRateLimiter.of(1, 1, 100, Duration.ofSeconds(30), ticker);
    limiter.tryAcquire("a");
    assertThat(limiter.size()).isEqualTo(1);
    ticker.advance(Duration.ofSeconds(31));
    assertThat(limiter.size()).isZero();
  }

  @Test
  void badSettingsAreNamed() {
    assertThatThrownBy(() -> RateLimiter.of(0, 1)).hasMessage("permitsPerSecond must be in (0, 1000000000], but was 0.0");
    assertThatThrownBy(() -> RateLimiter.of(10, 0)).hasMessage("burst must be in [1, 2147483647], but was 0");
    assertThatThrownBy(() -> KeyedRateLimiter.of(10, 1, 0, Duration.ofSeconds(1)))
        .hasMessage("maxKeys must be > 0, but was 0");
    assertThatThrownBy(() -> KeyedRateLimiter.of(10, 1, 10, Duration.ZERO))
        .hasMessage("idleTimeout must be positive, but was 0ms");
    KeyedRateLimiter<String> limiter = KeyedRateLimiter.of(10, 1, 10, Duration.ofSeconds(1));
    assertThatThrownBy(() -> limiter.tryAcquire(null)).isInstanceOf(NullPointerException.class).hasMessage("key");
  }
}
