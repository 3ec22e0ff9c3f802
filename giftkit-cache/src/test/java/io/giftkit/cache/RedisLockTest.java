package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.testing.RedisExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against a real Redis server. */
class RedisLockTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  private static StatefulRedisConnection<String, String> connection;
  private static RedisLock locks;

  @BeforeAll
  static void connect() {
    connection = REDIS.client().connect();
    locks = new RedisLock(connection, REDIS.keyPrefix() + "lock:");
  }

  @AfterAll
  static void disconnect() {
    connection.close();
  }

  @Test
  void onlyOneOwnerAtATimeAndReleaseFreesIt() {
    Optional<RedisLock.Lease> first = locks.tryAcquire("room:1", Duration.ofSeconds(10));
    assertThat(first).isPresent();
    assertThat(locks.tryAcquire("room:1", Duration.ofSeconds(10))).isEmpty();
    assertThat(first.get().release()).isTrue();
    assertThat(first.get().release()).as("already released").isFalse();
    try (RedisLock.Lease again = locks.tryAcquire("room:1", Duration.ofSeconds(10)).orElseThrow()) {
      assertThat(again.key()).endsWith("lock:room:1");
      assertThat(again).hasToString("Lease{" + again.key() + "}"); // the owner token is not shown
    }
    assertThat(locks.tryAcquire("room:1", Duration.ofSeconds(10))).isPresent();
  }

  @Test
  void anExpiredOwnerCannotReleaseOrRenewTheNextOwnersLock() {
    RedisLock.Lease stale = locks.tryAcquire("room:2", Duration.ofSeconds(10)).orElseThrow();
    REDIS.commands().del(stale.key()); // its lease ran out (as if expired)
    RedisLock.Lease current = locks.tryAcquire("room:2", Duration.ofSeconds(10)).orElseThrow();
    assertThat(stale.release()).isFalse();
    assertThat(stale.renew(Duration.ofSeconds(30))).isFalse();
    assertThat(REDIS.commands().exists(current.key())).isEqualTo(1);
    assertThat(current.renew(Duration.ofSeconds(30))).isTrue();
    assertThat(REDIS.commands().pttl(current.key())).isGreaterThan(10_000);
    current.close();
  }

  /** 16 threads race for one lock many times: at most one holds it at any moment. */
  @Test
  void mutualExclusionUnderContention() throws Exception {
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger maxHolders = new AtomicInteger();
    AtomicInteger acquisitions = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 200; i++) {
          Optional<RedisLock.Lease> lease = locks.tryAcquire("hot-refresh", Duration.ofSeconds(30));
          if (lease.isPresent()) {
            int now = holders.incrementAndGet();
            maxHolders.accumulateAndGet(now, Math::max);
            acquisitions.incrementAndGet();
            holders.decrementAndGet();
            assertThat(lease.get().release()).isTrue();
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
    assertThat(maxHolders).hasValue(1);
    assertThat(acquisitions.get()).isPositive();
  }

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> locks.tryAcquire(" ", Duration.ofSeconds(1))).hasMessage("name must not be blank, but was \" \"");
    assertThatThrownBy(() -> locks.tryAcquire("x", Duration.ZERO)).hasMessage("lease must be positive, but was 0ms");
    assertThatThrownBy(() -> locks.tryAcquire("x", Duration.ofNanos(500))).hasMessage("lease must be at least 1ms, but was 500ns");
  }
}
