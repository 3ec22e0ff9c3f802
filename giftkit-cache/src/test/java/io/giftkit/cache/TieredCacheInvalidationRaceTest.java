package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.RedisExtension;
import io.lettuce.core.api.StatefulRedisConnection;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Invalidations against loads that started before them, on real Redis: the load's value reaches
 * neither L1 nor Redis after the invalidation, on the invalidating instance or on another.
 */
class TieredCacheInvalidationRaceTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final String prefix = REDIS.key("race-" + System.nanoTime());
  /** The source of truth: each key's current version. */
  private final Map<Long, AtomicLong> db = new ConcurrentHashMap<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private AtomicLong row(long id) {
    return db.computeIfAbsent(id, k -> new AtomicLong(1));
  }

  private static long versionOf(String value) {
    return Long.parseLong(value.substring(value.indexOf('v') + 1));
  }

  private TieredCache.Builder<Long, String> builder(Function<Long, String> loader) {
    return builder(loader, InvalidationMode.PUB_SUB);
  }

  private TieredCache.Builder<Long, String> builder(Function<Long, String> loader, InvalidationMode mode) {
    TieredCache.Builder<Long, String> b = TieredCache.<Long, String>builder("race", REDIS.client())
        .keyPrefix(prefix).invalidation(mode)
        .keys(KeyCodec.longs()).values(ValueCodec.utf8()).loader(loader)
        .redisTimeout(Duration.ofSeconds(2)); // a busy CI machine is not a Redis outage
    return mode == InvalidationMode.PUB_SUB ? b.invalidationChannel(prefix + ":chan") : b;
  }

  private TieredCache<Long, String> build(TieredCache.Builder<Long, String> b) {
    TieredCache<Long, String> cache = b.build();
    toClose.add(cache);
    return cache;
  }

  private byte[] rawGet(long id) {
    try (StatefulRedisConnection<String, byte[]> raw = REDIS.client().connect(RedisLink.CODEC)) {
      return raw.sync().get(prefix + ":" + id);
    }
  }

  /** A loader that reads the version, then (first call only) waits until released: a slow query. */
  private static final class SlowOnce implements Function<Long, String> {
    final CountDownLatch reading = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicBoolean first = new AtomicBoolean(true);
    final Function<Long, Long> read;
    final AtomicInteger calls = new AtomicInteger();

    SlowOnce(Function<Long, Long> read) {
      this.read = read;
    }

    @Override
    public String apply(Long id) {
      calls.incrementAndGet();
      long version = read.apply(id);
      if (first.compareAndSet(true, false)) {
        reading.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return "room-" + id + " v" + version;
    }
  }

  @Test
  void aLoadThatStartedBeforeAnInvalidationWritesNeitherL1NorRedis() throws Exception {
    SlowOnce loader = new SlowOnce(id -> row(id).get());
    TieredCache<Long, String> a = build(builder(loader));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    toClose.add(pool::shutdownNow);
    Future<String> racing = pool.submit(() -> a.get(1L));
    assertThat(loader.reading.await(30, TimeUnit.SECONDS)).isTrue();
    row(1).incrementAndGet();
    a.invalidate(1L);
    loader.release.countDown();

    assertThat(racing.get(30, TimeUnit.SECONDS)).as("the read that started before").isEqualTo("room-1 v1");
    assertThat(a.inL1(1L)).isFalse();
    assertThat(rawGet(1)).as("the invalidation's tombstone, not the old value").startsWith(RedisEntries.TOMBSTONE);
    assertThat(a.stats().staleLoadWritesSkipped()).isEqualTo(1);
    assertThat(a.get(1L)).isEqualTo("room-1 v2");
    assertThat(loader.calls).hasValue(2);
    assertThat(rawGet(1)).startsWith(RedisEntries.PRESENT);
  }

  /**
   * Instance A loads, instance B invalidates; A never hears of it (B publishes on another channel,
   * as when a pub/sub message is lost). A's old value must still not reach Redis: a third instance
   * loads the new one.
   */
  @Test
  void aLoadOnOneInstanceNeverUndoesAnotherInstancesInvalidationInRedis() throws Exception {
    SlowOnce loader = new SlowOnce(id -> row(id).get());
    TieredCache<Long, String> a = build(builder(loader));
    TieredCache<Long, String> b = build(builder(id -> "room-" + id + " v" + row(id).get())
        .invalidationChannel(prefix + ":elsewhere"));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    toClose.add(pool::shutdownNow);
    Future<String> racing = pool.submit(() -> a.get(2L));
    assertThat(loader.reading.await(30, TimeUnit.SECONDS)).isTrue();
    row(2).incrementAndGet();
    b.invalidate(2L);
    loader.release.countDown();

    assertThat(racing.get(30, TimeUnit.SECONDS)).isEqualTo("room-2 v1");
    assertThat(a.stats().staleLoadWritesSkipped()).as("Redis refused A's write").isEqualTo(1);
    assertThat(rawGet(2)).startsWith(RedisEntries.TOMBSTONE);
    TieredCache<Long, String> c = build(builder(id -> "room-" + id + " v" + row(id).get()));
    assertThat(c.get(2L)).isEqualTo("room-2 v2");
    assertThat(c.stats().loads()).isEqualTo(1);
  }

  /**
   * Three instances, writers that change the source of truth and then invalidate (or put) through a
   * random instance, and readers on every instance. Once an invalidation of version v returned (on
   * its instance) and reached each other instance ({@code onInvalidationReceived}), no read that
   * starts after that may return a version below v; and no read may return a version the source of
   * truth never had. The loader reads the version and then takes up to 2 ms (a slow query), so loads
   * regularly overlap invalidations.
   *
   * <p>How a writer knows its invalidation reached an instance: under pub/sub only invalidations and
   * puts are published, one writer per key at a time, so one more message for the key is its own.
   * Under client tracking every write of the key is sent (other instances' fills too), so the count
   * says nothing; instead the writer then writes a marker key with a plain client and waits until
   * each instance heard the marker: Redis sends one connection its invalidations in the order of the
   * writes, and an instance drops every key of a message before telling listeners, so by then the
   * writer's own invalidation was applied.
   */
  @ParameterizedTest
  @EnumSource(InvalidationMode.class)
  void noInstanceServesAValueOlderThanAPublishedInvalidation(InvalidationMode mode) throws Exception {
    int instances = 3;
    int keys = 16;
    int writers = 4;
    int readers = 8;
    int writesPerWriter = 150;
    AtomicLongArray published = new AtomicLongArray(keys);
    List<Map<String, AtomicLong>> received = new ArrayList<>();
    AtomicLong markers = new AtomicLong(1_000_000); // key ids no reader uses
    List<TieredCache<Long, String>> caches = new ArrayList<>();
    Function<Long, String> slowLoader = id -> {
      long version = row(id).get();
      LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(2_000_000)); // the query's latency
      return "room-" + id + " v" + version;
    };
    for (int i = 0; i < instances; i++) {
      Map<String, AtomicLong> mine = new ConcurrentHashMap<>();
      received.add(mine);
      caches.add(build(builder(slowLoader, mode).l1(1_000, Duration.ofMinutes(5)).l2Ttl(Duration.ofMinutes(5))
          .listener(new TieredCacheListener() {
            @Override
            public void onInvalidationReceived(String cacheName, String key) {
              mine.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
            }
          })));
    }
    ReentrantLock[] keyLocks = new ReentrantLock[keys];
    for (int k = 0; k < keys; k++) {
      keyLocks[k] = new ReentrantLock();
      row(k);
    }
    List<String> violations = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicLong reads = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(writers + readers);
    toClose.add(pool::shutdownNow);
    List<Future<?>> writerDone = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      writerDone.add(pool.submit(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int n = 0; n < writesPerWriter; n++) {
          int k = random.nextInt(keys);
          int via = random.nextInt(instances);
          keyLocks[k].lock(); // one writer per key at a time, so "received one more" means this one
          try {
            long[] before = new long[instances];
            for (int i = 0; i < instances; i++) {
              AtomicLong r = received.get(i).get(Long.toString(k));
              before[i] = r == null ? 0 : r.get();
            }
            long v = row(k).incrementAndGet();
            if (random.nextInt(4) == 0) {
              caches.get(via).put((long) k, "room-" + k + " v" + v);
            } else {
              caches.get(via).invalidate((long) k);
            }
            long seen = versionOf(caches.get(via).get((long) k));
            if (seen < v) {
              violations.add("instance " + via + " served v" + seen + " of key " + k + " right after invalidating v" + v);
            }
            String marker = mode == InvalidationMode.CLIENT_TRACKING ? Long.toString(markers.incrementAndGet()) : null;
            if (marker != null) {
              REDIS.commands().set(prefix + ":" + marker, "marker"); // after the invalidation returned
            }
            for (int i = 0; i < instances; i++) {
              if (i == via) {
                continue;
              }
              Map<String, AtomicLong> theirs = received.get(i);
              long expected = before[i] + 1;
              String heard = marker != null ? marker : Long.toString(k);
              long count = marker != null ? 1 : expected;
              await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(1)).until(() -> {
                AtomicLong r = theirs.get(heard);
                return r != null && r.get() >= count;
              });
            }
            long floor = v;
            published.accumulateAndGet(k, floor, Math::max);
          } finally {
            keyLocks[k].unlock();
          }
        }
        return null;
      }));
    }
    List<Future<?>> readerDone = new ArrayList<>();
    for (int r = 0; r < readers; r++) {
      readerDone.add(pool.submit(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (writing.get()) {
          int k = random.nextInt(keys);
          int on = random.nextInt(instances);
          long floor = published.get(k);
          long seen = versionOf(caches.get(on).get((long) k));
          long ceiling = row(k).get();
          reads.incrementAndGet();
          if (seen < floor) {
            violations.add("instance " + on + " served v" + seen + " of key " + k + " after v" + floor
                + " was invalidated everywhere");
          }
          if (seen > ceiling) {
            violations.add("instance " + on + " served v" + seen + " of key " + k + ", never written (at most v"
                + ceiling + ")");
          }
        }
        return null;
      }));
    }
    try {
      for (Future<?> f : writerDone) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      writing.set(false);
    }
    for (Future<?> f : readerDone) {
      f.get(1, TimeUnit.MINUTES);
    }

    assertThat(violations).isEmpty();
    long totalVersions = 0;
    for (int k = 0; k < keys; k++) {
      totalVersions += row(k).get() - 1;
    }
    assertThat(totalVersions).isEqualTo((long) writers * writesPerWriter);
    assertThat(reads.get()).isPositive();
    long skipped = 0;
    for (TieredCache<Long, String> c : caches) {
      CacheStats s = c.stats();
      assertThat(s.redisErrors()).as("no Redis error (the receipt count above relies on it)").isZero();
      assertThat(s.invalidationsDropped()).isZero();
      skipped += s.staleLoadWritesSkipped();
    }
    System.out.printf("stress (%s): %d reads, %d writes, %d stale load writes skipped%n", mode, reads.get(), totalVersions, skipped);
  }
}
