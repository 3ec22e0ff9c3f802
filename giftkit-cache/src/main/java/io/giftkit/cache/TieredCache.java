package io.giftkit.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A two-level cache in front of a loader: L1 in process (Caffeine), L2 in Redis (Lettuce), then
 * the loader (a database or any store). Every miss goes through a {@link SingleFlight}, so a stampede
 * on a key makes one Redis read and at most one load per instance.
 *
 * <pre>{@code
 * TieredCache<Long, String> rooms = TieredCache.<Long, String>builder("rooms", redisClient)
 *     .keys(KeyCodec.longs()).values(ValueCodec.utf8())
 *     .loader(roomId -> roomDao.loadJson(roomId))     // null means absent: cached briefly (negative caching)
 *     .l1(100_000, Duration.ofSeconds(5))
 *     .l1Policy(L1Policy.HOT_ONLY, hotKeyDetector)     // only hot rooms live in process memory
 *     .l2Ttl(Duration.ofMinutes(10))
 *     .build();
 *
 * String room = rooms.get(42L);
 * rooms.invalidate(42L);    // after the database changed: L2 value replaced by a tombstone, L1 copies dropped
 * }</pre>
 *
 * <p><b>Consistency.</b> {@link #put} and {@link #invalidate} write Redis and publish the key on a
 * pub/sub channel; every instance drops it from L1. Pub/sub is not durable: an invalidation can be
 * lost, so an L1 copy is never older than the L1 TTL, and L1 is cleared whenever the pub/sub
 * connection reconnects (invalidations may have been missed meanwhile). Invalidations are batched
 * (one message per {@code invalidationBatch} window) under write bursts.
 *
 * <p><b>Invalidation against a racing load.</b> A load that started before an invalidation of its
 * key (on this instance, or received from another) writes nothing to L1 after it (a per-key
 * generation, striped). In Redis an invalidation leaves a tombstone (kept
 * {@code invalidationTombstoneTtl}, default 1 min) and a load writes its value only if the key still
 * holds what the load saw before calling the loader, so a load on one instance never undoes another
 * instance's invalidation in Redis. A load that took longer than half the tombstone TTL is not
 * written to Redis. When Redis does not answer an invalidation, its tombstone is queued (at most
 * {@code maxPendingInvalidations} keys) and written once Redis answers; until then this instance
 * does not use Redis for that key. The key is published only after its tombstone is in Redis.
 *
 * <p><b>Redis down.</b> A Redis command that fails or exceeds {@code redisTimeout} (default 50 ms)
 * is counted, reported once to {@link TieredCacheListener#onRedisDown}, and reads fall through to the
 * loader; for the next {@code redisRetryAfter} (default 1 s) Redis is not asked at all, then it is
 * tried again. A read never throws a Redis exception; the loader's own exceptions do reach the
 * caller (and every caller coalesced onto that load). The cache can be built while Redis is down:
 * it serves L1 and the loader and connects in the background every {@code redisRetryAfter}.
 *
 * <p><b>Expiry.</b> L2 TTLs are spread by ±{@code ttlJitter} (default 10%) so keys written together
 * do not expire together in Redis (L1 TTLs are short and per instance, and a miss is coalesced, so
 * L1 keeps a fixed TTL, which keeps its hit path as cheap as Caffeine's own). Under {@code HOT_ONLY}, a hot key whose L1 copy is past
 * {@code refreshAhead} (default 80%) of its TTL is reloaded in the background while the copy is
 * served, so hot keys never hit a hard expiry.
 *
 * <p>Thread-safe. {@link #get} blocks for at most the Redis timeout plus the loader's time. An L1
 * hit reads Caffeine once and allocates nothing. {@link #invalidate} and {@link #put} block for at
 * most one Redis timeout. This class is over 400 lines because its builder is nested in it; the
 * work is done by {@link RedisLink}, {@link Invalidations}, {@link KeyGenerations} and
 * {@link RedisEntries}.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class TieredCache<K, V> implements AutoCloseable {

  /** Default most keys in L1. */
  public static final long DEFAULT_L1_MAX_SIZE = 10_000;
  /** Default L1 time to live. */
  public static final Duration DEFAULT_L1_TTL = Duration.ofSeconds(5);
  /** Default time an invalidation's tombstone stays in Redis. */
  public static final Duration DEFAULT_INVALIDATION_TOMBSTONE_TTL = Duration.ofMinutes(1);
  /** Default most keys whose Redis invalidation waits for Redis to answer. */
  public static final int DEFAULT_MAX_PENDING_INVALIDATIONS = 100_000;

  /** Which keys live in L1. */
  public enum L1Policy {
    /** Every key read. */
    ALL,
    /** Only keys the {@link HotKeyDetector} says are hot (the reference platform's promotion). */
    HOT_ONLY
  }

  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);

  private final String name;
  private final String keyPrefix;
  private final KeyCodec<K> keys;
  private final ValueCodec<V> values;
  private final Function<? super K, ? extends V> loader;
  private final L1Policy policy;
  private final HotKeyDetector<K> detector;
  private final Ticker ticker;
  private final long l1TtlNanos;
  private final long l2TtlMillis;
  private final long negativeTtlNanos;
  private final double jitter;
  private final double refreshAhead;
  private final long redisTimeoutNanos;
  private final long maxL2WriteAgeNanos;
  private final Cache<K, Entry<V>> l1;
  private final SingleFlight<K, Entry<V>> flights;
  private final KeyGenerations generations = new KeyGenerations();
  private final RedisEntries entries = new RedisEntries();
  private final RedisLink link;
  private final Invalidations invalidations;
  private final ScheduledExecutorService background;
  private final Listeners<TieredCacheListener> listeners;
  private final Set<K> decodeFailuresLogged = ConcurrentHashMap.newKeySet();
  private final Set<K> refreshing = ConcurrentHashMap.newKeySet();
  private final LongAdder l1Hits = new LongAdder();
  private final LongAdder l1Misses = new LongAdder();
  private final LongAdder l2Hits = new LongAdder();
  private final LongAdder l2Misses = new LongAdder();
  private final LongAdder loads = new LongAdder();
  private final LongAdder loadFailures = new LongAdder();
  private final LongAdder promotions = new LongAdder();
  private final LongAdder demotions = new LongAdder();
  private final LongAdder decodeFailures = new LongAdder();
  private final LongAdder loadLockWaits = new LongAdder();
  private final LongAdder staleLoadWritesSkipped = new LongAdder();
  private final RedisLock loadLocks;
  private final Duration loadLockLease;
  private final long loadLockWaitNanos;

  /** An L1 entry: the value (null when absent), when it was stored, and for how long it is good. */
  private record Entry<V>(V value, long storedAtNanos, long ttlNanos) {}

  /**
   * What a load saw in Redis before calling the loader: whether Redis answered, and the key's
   * bytes then (null or a tombstone), which the load's write must still find there.
   */
  private record L2Seen(boolean answered, byte[] bytes) {
    static final L2Seen UNKNOWN = new L2Seen(false, null);
  }

  private TieredCache(Builder<K, V> b) {
    this.name = b.name;
    this.keyPrefix = b.keyPrefix;
    this.keys = b.keys;
    this.values = b.values;
    this.loader = b.loader;
    this.policy = b.policy;
    this.detector = b.detector;
    this.ticker = b.ticker;
    this.l1TtlNanos = b.l1Ttl.toNanos();
    this.l2TtlMillis = b.l2Ttl.toMillis();
    this.negativeTtlNanos = b.negativeTtl.toNanos();
    this.jitter = b.ttlJitter;
    this.refreshAhead = b.refreshAhead;
    this.redisTimeoutNanos = b.redisTimeout.toNanos();
    this.maxL2WriteAgeNanos = b.tombstoneTtl.toNanos() / 2;
    String channel = b.channel != null ? b.channel : "giftkit:invalidate:" + b.keyPrefix;
    this.loadLocks = b.loadLocks;
    this.loadLockLease = b.loadLockLease;
    this.loadLockWaitNanos = b.loadLockWait == null ? 0 : b.loadLockWait.toNanos();
    this.listeners = Listeners.create("TieredCache '" + b.name + "'");
    b.listeners.forEach(listeners::add);
    this.flights = new SingleFlight<>(b.name);
    // A fixed expiry keeps the hit path as cheap as Caffeine's own (a variable expiry costs a timer
    // update on every read); negative entries, which live shorter, are checked by age on read.
    this.l1 = Caffeine.newBuilder()
        .maximumSize(b.l1MaxSize)
        .expireAfterWrite(b.l1Ttl)
        .ticker(ticker::read)
        .build();
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "giftkit-cache-" + b.name);
      t.setDaemon(true);
      return t;
    });
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // no reconnect attempt after close()
    this.background = executor;
    this.link = new RedisLink(b.name, b.client, channel, ticker, redisTimeoutNanos, b.redisRetryAfter.toNanos(),
        background, listeners, this::onInvalidationMessage, this::clearL1);
    this.invalidations = new Invalidations(b.name, b.keyPrefix, channel, link, entries, redisTimeoutNanos,
        b.tombstoneTtl.toMillis(), b.maxPendingInvalidations);
    link.start();
    long batchNanos = b.invalidationBatch.toNanos();
    background.scheduleWithFixedDelay(invalidations::flush, batchNanos, batchNanos, TimeUnit.NANOSECONDS);
    if (detector != null && policy == L1Policy.HOT_ONLY) {
      detector.addListener(new HotKeyListener<>() {
        @Override
        public void onCooled(K key) {
          if (l1.asMap().remove(key) != null) {
            demotions.increment();
          }
        }
      });
    }
  }

  /**
   * Starts a builder.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name names the cache in logs, threads and Redis keys ({@code <name>:<key>}); not blank
   * @param client the Redis client; the cache opens two connections on it (commands, pub/sub) and
   *     closes them on {@link #close()}; the client itself stays the caller's. Redis need not be up
   *     when the cache is built.
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name, RedisClient client) {
    return new Builder<>(Checks.requireNonBlank("name", name), Checks.requireNonNull("client", client));
  }

  /**
   * Returns the value for {@code key}: from L1, else Redis, else the loader (and then it is written to
   * Redis and, per the L1 policy, to L1, unless the key was invalidated since the load started).
   *
   * @param key the key; not null
   * @return the value, or null if the loader says it is absent
   * @throws RuntimeException what the loader threw (never a Redis exception)
   */
  public V get(K key) {
    Objects.requireNonNull(key, "key");
    if (detector != null) {
      detector.record(key);
    }
    Entry<V> entry = l1.getIfPresent(key);
    if (entry != null && (entry.value() != null || ticker.read() - entry.storedAtNanos() < entry.ttlNanos())) {
      l1Hits.increment();
      if (policy == L1Policy.HOT_ONLY && refreshAhead < 1
          && ticker.read() - entry.storedAtNanos() > entry.ttlNanos() * refreshAhead) {
        refreshInBackground(key);
      }
      return entry.value();
    }
    l1Misses.increment();
    return flights.get(key, this::loadThrough).value();
  }

  /**
   * Writes a value: Redis, this instance's L1 (per the policy), and an invalidation for the others.
   * A load of the key in flight writes nothing after this. If Redis does not answer, the value
   * reaches L1 only and the key's Redis value is invalidated as soon as Redis answers (queued).
   *
   * @param key the key; not null
   * @param value the value; not null
   */
  public void put(K key, V value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    String text = keys.format(key);
    byte[] bytes = RedisEntries.present(values.encode(value));
    if (invalidations.pending(text) || !setL2(text, bytes, jitteredMillis(l2TtlMillis))) {
      invalidations.queue(text); // Redis must not keep the old value
    }
    // After Redis: a load that read Redis before the write has an older generation and writes no L1.
    Entry<V> entry = new Entry<>(value, ticker.read(), l1TtlNanos);
    generations.advance(key, () -> {
      if (policy == L1Policy.ALL || detector.isHot(key)) {
        if (l1.asMap().put(key, entry) == null && policy == L1Policy.HOT_ONLY) {
          promotions.increment();
        }
      } else {
        l1.invalidate(key);
      }
    });
    flights.forget(key);
    invalidations.publish(text);
  }

  /**
   * Drops a key everywhere: this instance's L1 (at once; a load in flight writes nothing after
   * this), Redis (a tombstone; queued if Redis does not answer), and, by pub/sub once the tombstone is
   * in Redis, every other instance's L1.
   *
   * @param key the key; not null
   */
  public void invalidate(K key) {
    Objects.requireNonNull(key, "key");
    generations.advance(key, () -> l1.invalidate(key)); // at once: this instance stops serving it
    String text = keys.format(key);
    invalidations.writeTombstone(text);
    // Again after Redis: a load that started meanwhile may have read the old Redis value.
    generations.advance(key, () -> l1.invalidate(key));
    flights.forget(key);
    invalidations.publish(text);
  }

  /**
   * Whether L1 holds {@code key} now (for tests and diagnostics).
   *
   * @param key the key
   * @return whether it has an L1 entry
   */
  public boolean inL1(K key) {
    return l1.getIfPresent(key) != null;
  }

  /** @return the counts since creation */
  public CacheStats stats() {
    return new CacheStats(l1Hits.sum(), l1Misses.sum(), flights.coalesced(), l2Hits.sum(), l2Misses.sum(),
        loads.sum(), loadFailures.sum(), promotions.sum(), demotions.sum(), invalidations.sent(),
        invalidations.received(), link.errors(), decodeFailures.sum(), loadLockWaits.sum(),
        staleLoadWritesSkipped.sum(), invalidations.queued(), invalidations.dropped(), link.connectFailures());
  }

  /**
   * Whether Redis is currently considered down: never connected yet (built while Redis was down), or
   * the last command failed or timed out.
   *
   * @return true while reads go to L1 and the loader only
   */
  public boolean isRedisDown() {
    return link.isDown();
  }

  /**
   * Whether the cache's Redis connections have been established (at build, or later in the
   * background if Redis was down when the cache was built). Lettuce keeps them reconnecting after that.
   *
   * @return whether it has connected
   */
  public boolean isRedisConnected() {
    return link.connected();
  }

  /** @return keys whose Redis invalidation waits for Redis to answer now (at most {@code maxPendingInvalidations}) */
  public int pendingInvalidations() {
    return invalidations.pendingCount();
  }

  /**
   * Adds a listener.
   *
   * @param listener the listener
   */
  public void addListener(TieredCacheListener listener) {
    listeners.add(listener);
  }

  /**
   * Stops the background thread, publishes pending invalidations if Redis answers (a tombstone still
   * queued then is lost), then closes the cache's Redis connections.
   */
  @Override
  public void close() {
    background.shutdown();
    try {
      background.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    invalidations.flush();
    link.close();
  }

  private Entry<V> loadThrough(K key) {
    long generation = generations.snapshot(key);
    String text = keys.format(key);
    L2Seen seen = L2Seen.UNKNOWN;
    RedisAsyncCommands<String, byte[]> c = invalidations.pending(text) ? null : link.commandsIfUsable();
    if (c != null) {
      try {
        byte[] bytes = c.get(invalidations.redisKey(text)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        link.answered();
        Entry<V> decoded = bytes == null || RedisEntries.isTombstone(bytes) ? null : decode(key, bytes);
        if (decoded != null) {
          l2Hits.increment();
          return keepInL1(key, decoded.value(), decoded.value() == null, generation);
        }
        seen = new L2Seen(true, bytes); // nothing, a tombstone, or undecodable: the load replaces exactly that
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        link.failed(e);
      } catch (Exception e) {
        link.failed(e);
      }
    }
    RedisLock.Lease lease = null;
    if (loadLocks != null && seen.answered()) {
      try {
        lease = loadLocks.tryAcquire(keyPrefix + ":load:" + text, loadLockLease).orElse(null);
        if (lease == null) {
          Entry<V> loadedElsewhere = awaitOtherInstancesLoad(key, text, generation);
          if (loadedElsewhere != null) {
            return loadedElsewhere;
          }
        }
      } catch (RuntimeException e) {
        link.failed(e); // no lock: load here, as without one
      }
    }
    l2Misses.increment();
    try {
      return load(key, text, generation, seen);
    } finally {
      if (lease != null) {
        try {
          lease.release();
        } catch (RuntimeException e) {
          link.failed(e); // the lease expires by itself
        }
      }
    }
  }

  /**
   * Another instance holds the load lock for {@code key}: poll Redis for the value it will write,
   * up to {@code loadLockWait}; null if it did not appear (then this instance loads too).
   */
  private Entry<V> awaitOtherInstancesLoad(K key, String text, long generation) {
    loadLockWaits.increment();
    long deadline = System.nanoTime() + loadLockWaitNanos;
    while (System.nanoTime() - deadline < 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(Math.min(10_000_000L, loadLockWaitNanos / 10 + 1));
      RedisAsyncCommands<String, byte[]> c = link.commands();
      if (c == null) {
        return null;
      }
      try {
        byte[] bytes = c.get(invalidations.redisKey(text)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        if (bytes != null && !RedisEntries.isTombstone(bytes)) {
          Entry<V> decoded = decode(key, bytes);
          if (decoded != null) {
            l2Hits.increment();
            return keepInL1(key, decoded.value(), decoded.value() == null, generation);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      } catch (Exception e) {
        link.failed(e);
        return null;
      }
    }
    return null;
  }

  private Entry<V> load(K key, String text, long generation, L2Seen seen) {
    loads.increment();
    long started = System.nanoTime();
    V value;
    try {
      value = loader.apply(key);
    } catch (RuntimeException | Error e) {
      loadFailures.increment();
      throw e;
    }
    if (seen.answered() && System.nanoTime() - started < maxL2WriteAgeNanos
        && generations.snapshot(key) == generation && !invalidations.pending(text)) {
      if (value == null) {
        compareAndSetL2(text, seen.bytes(), RedisEntries.absent(),
            Math.max(1, TimeUnit.NANOSECONDS.toMillis(negativeTtlNanos)));
      } else {
        compareAndSetL2(text, seen.bytes(), RedisEntries.present(values.encode(value)), jitteredMillis(l2TtlMillis));
      }
    }
    return keepInL1(key, value, value == null, generation);
  }

  /**
   * Puts a value in L1 if the policy wants it there and the key was not invalidated since
   * {@code generation}; returns the entry either way.
   */
  private Entry<V> keepInL1(K key, V value, boolean absent, long generation) {
    long ttl = absent ? Math.min(negativeTtlNanos, l1TtlNanos) : l1TtlNanos;
    Entry<V> entry = new Entry<>(value, ticker.read(), ttl);
    if (policy == L1Policy.ALL || detector.isHot(key)) {
      boolean written = generations.writeIfUnchanged(key, generation, () -> {
        if (l1.asMap().put(key, entry) == null && policy == L1Policy.HOT_ONLY) {
          promotions.increment();
        }
      });
      if (!written) {
        staleLoadWritesSkipped.increment();
      }
    }
    return entry;
  }

  private void refreshInBackground(K key) {
    if (!refreshing.add(key)) {
      return; // already scheduled
    }
    background.execute(() -> {
      try {
        flights.get(key, this::loadThrough); // replaces the L1 copy; readers keep the old one meanwhile
      } catch (RuntimeException e) {
        LOG.debug("GiftKit cache '{}': refresh-ahead of a hot key failed; it will expire normally", name, e);
      } finally {
        refreshing.remove(key);
      }
    });
  }

  private Entry<V> decode(K key, byte[] bytes) {
    try {
      if (bytes.length >= 1 && bytes[0] == RedisEntries.ABSENT) {
        return new Entry<>(null, ticker.read(), negativeTtlNanos);
      }
      if (bytes.length >= 1 && bytes[0] == RedisEntries.PRESENT) {
        byte[] body = new byte[bytes.length - 1];
        System.arraycopy(bytes, 1, body, 0, body.length);
        return new Entry<>(values.decode(body), ticker.read(), 0);
      }
      throw new IllegalArgumentException("unknown entry header " + (bytes.length == 0 ? "(empty)" : bytes[0]));
    } catch (RuntimeException e) {
      decodeFailures.increment();
      if (decodeFailuresLogged.size() < 10_000 && decodeFailuresLogged.add(key)) {
        LOG.warn("GiftKit cache '{}': the Redis value of key {} could not be decoded; it will be loaded"
            + " again and replaced (further failures of this key are not logged)", name, key, e);
      }
      return null;
    }
  }

  /** Writes unconditionally; returns whether Redis took it. */
  private boolean setL2(String text, byte[] bytes, long ttlMillis) {
    RedisAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c == null) {
      return false;
    }
    try {
      c.set(invalidations.redisKey(text), bytes, SetArgs.Builder.px(ttlMillis)).get(redisTimeoutNanos,
          TimeUnit.NANOSECONDS);
      link.answered();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      link.failed(e);
    } catch (Exception e) {
      link.failed(e);
    }
    return false;
  }

  /** Writes a loaded value only if the key still holds {@code expected} (null: nothing). */
  private void compareAndSetL2(String text, byte[] expected, byte[] bytes, long ttlMillis) {
    RedisAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c == null) {
      return;
    }
    try {
      Long written = c.<Long>eval(RedisEntries.CAS_SCRIPT, RedisEntries.CAS_OUTPUT,
          new String[] {invalidations.redisKey(text)}, expected == null ? RedisEntries.EXPECT_NOTHING
              : RedisEntries.EXPECT_VALUE, expected == null ? RedisEntries.NO_VALUE : expected, bytes,
          RedisEntries.millis(ttlMillis)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
      link.answered();
      if (written == null || written == 0) {
        staleLoadWritesSkipped.increment();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      link.failed(e);
    } catch (Exception e) {
      link.failed(e);
    }
  }

  private void onInvalidationMessage(String message) {
    invalidations.onMessage(message, text -> {
      try {
        K key = keys.parse(text);
        generations.advance(key, () -> l1.invalidate(key));
        flights.forget(key);
        listeners.fire(l -> l.onInvalidationReceived(name, text));
      } catch (RuntimeException e) {
        LOG.warn("GiftKit cache '{}': could not parse invalidated key '{}'", name, text, e);
      }
    }, this::clearL1);
  }

  /** Drops all of L1 (invalidations may have been missed); loads in flight write nothing to L1 after. */
  private void clearL1() {
    generations.advanceAll();
    l1.invalidateAll();
  }

  private long jittered(long nanos) {
    if (jitter == 0) {
      return nanos;
    }
    double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Math.max(1, (long) (nanos * factor));
  }

  private long jitteredMillis(long millis) {
    return Math.max(1, jittered(TimeUnit.MILLISECONDS.toNanos(millis)) / 1_000_000);
  }

  @Override
  public String toString() {
    return "TieredCache{name=" + name + ", policy=" + policy + ", redisDown=" + link.isDown() + "}";
  }

  /**
   * Builds a {@link TieredCache}. Not thread-safe.
   *
   * @param <K> the key type
   * @param <V> the value type
   */
  public static final class Builder<K, V> {
    private final String name;
    private final RedisClient client;
    private String keyPrefix;
    private KeyCodec<K> keys;
    private ValueCodec<V> values;
    private Function<? super K, ? extends V> loader;
    private long l1MaxSize = DEFAULT_L1_MAX_SIZE;
    private Duration l1Ttl = DEFAULT_L1_TTL;
    private Duration l2Ttl = Duration.ofMinutes(10);
    private Duration negativeTtl = Duration.ofSeconds(2);
    private double ttlJitter = 0.1;
    private double refreshAhead = 0.8;
    private L1Policy policy = L1Policy.ALL;
    private HotKeyDetector<K> detector;
    private Duration redisTimeout = Duration.ofMillis(50);
    private Duration redisRetryAfter = Duration.ofSeconds(1);
    private Duration invalidationBatch = Duration.ofMillis(5);
    private String channel;
    private Duration tombstoneTtl = DEFAULT_INVALIDATION_TOMBSTONE_TTL;
    private int maxPendingInvalidations = DEFAULT_MAX_PENDING_INVALIDATIONS;
    private RedisLock loadLocks;
    private Duration loadLockLease;
    private Duration loadLockWait;
    private Ticker ticker = Ticker.system();
    private final List<TieredCacheListener> listeners = new ArrayList<>();

    private Builder(String name, RedisClient client) {
      this.name = name;
      this.client = client;
      this.keyPrefix = name;
    }

    /** @param codec turns keys into Redis key text and back; required @return this builder */
    public Builder<K, V> keys(KeyCodec<K> codec) {
      this.keys = Checks.requireNonNull("keys", codec);
      return this;
    }

    /** @param codec turns values into Redis bytes and back; required @return this builder */
    public Builder<K, V> values(ValueCodec<V> codec) {
      this.values = Checks.requireNonNull("values", codec);
      return this;
    }

    /** @param loader loads a value missing from both levels; null means absent; required @return this builder */
    public Builder<K, V> loader(Function<? super K, ? extends V> loader) {
      this.loader = Checks.requireNonNull("loader", loader);
      return this;
    }

    /**
     * @param prefix the Redis key prefix (keys are {@code <prefix>:<key>}); default the cache's name
     * @return this builder
     */
    public Builder<K, V> keyPrefix(String prefix) {
      this.keyPrefix = Checks.requireNonBlank("keyPrefix", prefix);
      return this;
    }

    /**
     * Sizes L1. Default 10,000 keys, 5 s.
     *
     * @param maxSize positive
     * @param ttl positive
     * @return this builder
     */
    public Builder<K, V> l1(long maxSize, Duration ttl) {
      this.l1MaxSize = Checks.requirePositive("l1MaxSize", maxSize);
      this.l1Ttl = Checks.requirePositive("l1Ttl", ttl);
      return this;
    }

    /** @param ttl how long Redis keeps a value; positive; default 10 min @return this builder */
    public Builder<K, V> l2Ttl(Duration ttl) {
      this.l2Ttl = Checks.requirePositive("l2Ttl", ttl);
      return this;
    }

    /** @param ttl how long an absent value is remembered in both levels; positive; default 2 s @return this builder */
    public Builder<K, V> negativeTtl(Duration ttl) {
      this.negativeTtl = Checks.requirePositive("negativeTtl", ttl);
      return this;
    }

    /** @param fraction TTL spread, ± this fraction; in [0, 0.5]; default 0.1 @return this builder */
    public Builder<K, V> ttlJitter(double fraction) {
      this.ttlJitter = Checks.requireInRange("ttlJitter", fraction, 0, true, 0.5, true);
      return this;
    }

    /**
     * @param fraction under HOT_ONLY, reload a hot key in the background once its L1 copy is this
     *     far into its TTL; in (0, 1], 1 turns it off; default 0.8
     * @return this builder
     */
    public Builder<K, V> refreshAhead(double fraction) {
      this.refreshAhead = Checks.requireInRange("refreshAhead", fraction, 0, false, 1, true);
      return this;
    }

    /**
     * Chooses which keys live in L1. Default ALL (no detector needed).
     *
     * @param policy the policy
     * @param detector required for HOT_ONLY; it is fed by every {@link TieredCache#get}
     * @return this builder
     */
    public Builder<K, V> l1Policy(L1Policy policy, HotKeyDetector<K> detector) {
      this.policy = Checks.requireNonNull("l1Policy", policy);
      this.detector = detector;
      return this;
    }

    /** @param timeout per Redis command; positive; default 50 ms @return this builder */
    public Builder<K, V> redisTimeout(Duration timeout) {
      this.redisTimeout = Checks.requirePositive("redisTimeout", timeout);
      return this;
    }

    /** @param wait after a Redis failure, how long to skip Redis; positive; default 1 s @return this builder */
    public Builder<K, V> redisRetryAfter(Duration wait) {
      this.redisRetryAfter = Checks.requirePositive("redisRetryAfter", wait);
      return this;
    }

    /** @param window invalidations are published in batches this often; positive; default 5 ms @return this builder */
    public Builder<K, V> invalidationBatch(Duration window) {
      this.invalidationBatch = Checks.requirePositive("invalidationBatch", window);
      return this;
    }

    /** @param channel the pub/sub channel; default {@code giftkit:invalidate:<keyPrefix>} @return this builder */
    public Builder<K, V> invalidationChannel(String channel) {
      this.channel = Checks.requireNonBlank("invalidationChannel", channel);
      return this;
    }

    /**
     * How long an invalidation's tombstone stays in Redis. A load writes its value to Redis only if
     * the key still holds what it held before the loader ran, and only if the load took less than
     * half this long, so that no tombstone expires under a load it must stop. Default 1 min; at
     * least 1 s.
     *
     * @param ttl at least 1 s
     * @return this builder
     */
    public Builder<K, V> invalidationTombstoneTtl(Duration ttl) {
      Checks.requirePositive("invalidationTombstoneTtl", ttl);
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
        throw Checks.invalid("invalidationTombstoneTtl", "must be at least 1s", ttl);
      }
      this.tombstoneTtl = ttl;
      return this;
    }

    /**
     * How many keys' Redis invalidations may wait for Redis to answer (an outage, a timeout). When
     * full, a further key's Redis invalidation is dropped (counted in
     * {@link CacheStats#invalidationsDropped()}, logged once per outage): its L1 copies are still
     * dropped, but Redis may serve its old value until its L2 TTL ends. Default 100,000.
     *
     * @param max in [1, 10,000,000]
     * @return this builder
     */
    public Builder<K, V> maxPendingInvalidations(int max) {
      this.maxPendingInvalidations = (int) Checks.requireInRange("maxPendingInvalidations", max, 1, 10_000_000);
      return this;
    }

    /**
     * Makes one instance at a time load a key missing from Redis: the others wait for the value it
     * writes (the reference platform's "only one refresher"), instead of all calling the loader when
     * a hot key expires from Redis. Off by default.
     *
     * @param locks the lock factory (see {@link RedisLock} for its limits)
     * @param lease how long a load may hold the lock; positive
     * @param maxWait how long another instance waits for the value before loading itself; positive
     * @return this builder
     */
    public Builder<K, V> loadLock(RedisLock locks, Duration lease, Duration maxWait) {
      this.loadLocks = Checks.requireNonNull("loadLocks", locks);
      this.loadLockLease = Checks.requirePositive("loadLockLease", lease);
      this.loadLockWait = Checks.requirePositive("loadLockWait", maxWait);
      return this;
    }

    /** @param ticker time source for TTLs and retry; default the system ticker @return this builder */
    public Builder<K, V> ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /** @param listener hears Redis outages @return this builder */
    public Builder<K, V> listener(TieredCacheListener listener) {
      listeners.add(Checks.requireNonNull("listener", listener));
      return this;
    }

    /**
     * Builds the cache, opening its Redis connections. If Redis cannot be reached (one attempt,
     * bounded by the client's connect timeout) the cache is built anyway: it serves L1 and the
     * loader, reports {@link TieredCacheListener#onRedisDown}, and connects in the background every
     * {@code redisRetryAfter}.
     *
     * @return the cache
     * @throws io.giftkit.core.InvalidConfigException if keys, values or loader is missing, or
     *     HOT_ONLY has no detector
     */
    public TieredCache<K, V> build() {
      Checks.requireNonNull("keys", keys);
      Checks.requireNonNull("values", values);
      Checks.requireNonNull("loader", loader);
      if (policy == L1Policy.HOT_ONLY && detector == null) {
        throw Checks.invalid("detector", "must be given with l1Policy HOT_ONLY", null);
      }
      return new TieredCache<>(this);
    }
  }
}
