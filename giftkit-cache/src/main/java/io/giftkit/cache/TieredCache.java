package io.giftkit.cache;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.protocol.ProtocolVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * <p><b>Client tracking.</b> With {@code invalidation(InvalidationMode.CLIENT_TRACKING)} nothing is
 * published: Redis itself tells every instance ({@code CLIENT TRACKING ON BCAST PREFIX <keyPrefix>:
 * NOLOOP}, RESP3 push messages on the command connection) of every write, delete, expiry or
 * eviction of a key under the cache's prefix, by any client, and each instance drops the key from L1
 * (advancing its generation, as for a pub/sub message). A {@code FLUSHALL} or {@code FLUSHDB} drops
 * all of L1. A reconnect loses the tracking: it is turned on again on the new connection and then L1
 * is cleared. See {@link InvalidationMode#CLIENT_TRACKING} for its needs and costs.
 *
 * <p><b>Redis Cluster.</b> Built with a {@link RedisClusterClient} ({@link #builder(String,
 * RedisClusterClient)}), the cache sends each command to the master that owns its key's slot (every
 * command names one key, the compare-and-set script included) and publishes invalidations with a
 * classic {@code PUBLISH}, which every node of the cluster delivers to its subscribers; the pub/sub
 * connection subscribes on one node. {@link InvalidationMode#CLIENT_TRACKING} is refused with a
 * cluster client (tracking is per node: one connection would hear of its own node's keys only).
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
 * most one Redis timeout. The work is done by package-private parts of one job each: {@link L1Store}
 * (L1 and the key generations), {@link ReadThrough} (the miss path), {@link RedisLink} (connections,
 * outages), {@link Invalidations} (tombstones, their queue, pub/sub); this class is over 400 lines
 * only because its builder is nested in it.
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
  private final KeyCodec<K> keys;
  private final L1Policy policy;
  private final HotKeyDetector<K> detector;
  private final Ticker ticker;
  private final double refreshAhead;
  private final CacheCounters counters = new CacheCounters();
  private final L1Store<K, V> l1;
  private final SingleFlight<K, L1Store.Entry<V>> flights;
  private final RedisLink link;
  private final Invalidations invalidations;
  private final ReadThrough<K, V> readThrough;
  private final ScheduledExecutorService background;
  private final long batchNanos;
  private final java.util.concurrent.atomic.AtomicBoolean flushScheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final Listeners<TieredCacheListener> listeners;
  private final Set<K> refreshing = ConcurrentHashMap.newKeySet();
  private final InvalidationMode invalidationMode;

  private TieredCache(Builder<K, V> b) {
    this.name = b.name;
    this.keys = b.keys;
    this.policy = b.policy;
    this.detector = b.detector;
    this.ticker = b.ticker;
    this.refreshAhead = b.refreshAhead;
    this.invalidationMode = b.invalidationMode;
    this.listeners = Listeners.create("TieredCache '" + b.name + "'");
    b.listeners.forEach(listeners::add);
    this.flights = new SingleFlight<>(b.name);
    this.l1 = new L1Store<>(b.l1MaxSize, b.l1Ttl, b.negativeTtl, b.policy, b.detector, b.ticker, counters);
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "giftkit-cache-" + b.name);
      t.setDaemon(true);
      return t;
    });
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // no reconnect attempt after close()
    this.background = executor;
    this.batchNanos = b.invalidationBatch.toNanos(); // a flush is scheduled when work is queued, not polled for
    String channel = b.channel != null ? b.channel : "giftkit:invalidate:" + b.keyPrefix;
    long redisTimeoutNanos = b.redisTimeout.toNanos();
    ClientTracking tracking = b.invalidationMode == InvalidationMode.CLIENT_TRACKING
        ? new ClientTracking(b.name, b.keyPrefix, this::onTrackedKeys, this::clearL1) : null;
    this.link = new RedisLink(b.name, b.client, channel, ticker, redisTimeoutNanos, b.redisRetryAfter.toNanos(),
        background, listeners, this::onInvalidationMessage, this::clearL1, tracking);
    this.invalidations = new Invalidations(b.name, b.keyPrefix, channel, link, new RedisEntries(), redisTimeoutNanos,
        b.tombstoneTtl.toMillis(), b.maxPendingInvalidations, b.invalidationMode, this::requestFlush);
    this.readThrough = new ReadThrough<>(b, l1, link, invalidations, counters);
    link.start();
    if (detector != null && policy == L1Policy.HOT_ONLY) {
      detector.addListener(new HotKeyListener<>() {
        @Override
        public void onCooled(K key) {
          l1.demote(key);
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
   * @param client the Redis client; the cache opens two connections on it (commands, pub/sub; under
   *     {@link InvalidationMode#CLIENT_TRACKING} only the command connection) and closes them on
   *     {@link #close()}; the client itself stays the caller's. Redis need not be up when the cache
   *     is built.
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name, RedisClient client) {
    return new Builder<>(Checks.requireNonBlank("name", name), Checks.requireNonNull("client", client));
  }

  /**
   * Starts a builder for a cache on a Redis Cluster: commands go to the master of each key's slot,
   * invalidations are published cluster-wide (see the class javadoc). Under
   * {@link InvalidationMode#PUB_SUB} only.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name names the cache in logs, threads and Redis keys ({@code <name>:<key>}); not blank
   * @param client the Redis Cluster client; the cache opens a cluster connection (commands) and a
   *     pub/sub connection on it and closes them on {@link #close()}; the client itself stays the
   *     caller's. The cluster need not be up when the cache is built.
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name, RedisClusterClient client) {
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
    L1Store.Entry<V> entry = l1.getIfPresent(key);
    if (entry != null && (entry.value() != null || ticker.read() - entry.storedAtNanos() < entry.ttlNanos())) {
      counters.l1Hits.increment();
      if (policy == L1Policy.HOT_ONLY && refreshAhead < 1
          && ticker.read() - entry.storedAtNanos() > entry.ttlNanos() * refreshAhead) {
        refreshInBackground(key);
      }
      return entry.value();
    }
    counters.l1Misses.increment();
    return flights.get(key, readThrough::load).value();
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
    if (invalidations.pending(text) || !readThrough.write(text, value)) {
      invalidations.queue(text); // Redis must not keep the old value
    }
    // After Redis: a load that read Redis before the write has an older generation and writes no L1.
    l1.replace(key, value);
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
    l1.drop(key); // at once: this instance stops serving it
    String text = keys.format(key);
    invalidations.writeTombstone(text);
    l1.drop(key); // again after Redis: a load that started meanwhile may have read the old Redis value
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
    return l1.contains(key);
  }

  /** @return the counts since creation */
  public CacheStats stats() {
    return counters.snapshot(flights.coalesced(), invalidations, link);
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

  /** @return how this cache's instances learn of changed keys */
  public InvalidationMode invalidationMode() {
    return invalidationMode;
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

  /** Schedules one flush of the queued invalidations after the batch window, unless one is scheduled. */
  private void requestFlush() {
    if (flushScheduled.compareAndSet(false, true)) {
      try {
        background.schedule(this::flushQueued, batchNanos, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        flushScheduled.set(false); // closing: close() flushes what is queued
      }
    }
  }

  private void flushQueued() {
    flushScheduled.set(false); // what is queued from here on asks for the next flush
    try {
      invalidations.flush();
    } finally {
      if (invalidations.hasPending()) {
        requestFlush(); // Redis did not take it all (down, or more came): again after one window
      }
    }
  }

  private void refreshInBackground(K key) {
    if (!refreshing.add(key)) {
      return; // already scheduled
    }
    background.execute(() -> {
      try {
        flights.get(key, readThrough::load); // replaces the L1 copy; readers keep the old one meanwhile
      } catch (RuntimeException e) {
        LOG.debug("GiftKit cache '{}': refresh-ahead of a hot key failed; it will expire normally", name, e);
      } finally {
        refreshing.remove(key);
      }
    });
  }

  private void onInvalidationMessage(String message) {
    invalidations.onMessage(message, text -> {
      try {
        K key = keys.parse(text);
        l1.drop(key);
        flights.forget(key);
        listeners.fire(l -> l.onInvalidationReceived(name, text));
      } catch (RuntimeException e) {
        LOG.warn("GiftKit cache '{}': could not parse invalidated key '{}'", name, text, e);
      }
    }, this::clearL1);
  }

  /**
   * Keys Redis says changed (client tracking): drops them all, then tells the listeners, so a
   * listener that hears of a key written after another in the same message knows both are gone.
   */
  private void onTrackedKeys(List<String> texts) {
    List<String> dropped = new ArrayList<>(texts.size());
    for (String text : texts) {
      K key;
      try {
        key = keys.parse(text);
      } catch (RuntimeException e) {
        // another user of the prefix (the load lock's keys, say): not a key of this cache
        LOG.debug("GiftKit cache '{}': Redis key '{}' under the prefix is not a cache key", name, text, e);
        continue;
      }
      l1.drop(key);
      flights.forget(key);
      dropped.add(text);
    }
    invalidations.received(dropped.size());
    for (String text : dropped) {
      listeners.fire(l -> l.onInvalidationReceived(name, text));
    }
  }

  /** Drops all of L1 (invalidations may have been missed); loads in flight write nothing after. */
  private void clearL1() {
    counters.l1Clears.increment();
    l1.clear();
  }

  @Override
  public String toString() {
    return "TieredCache{name=" + name + ", policy=" + policy + ", invalidation=" + invalidationMode + ", redisDown="
        + link.isDown() + "}";
  }

  /**
   * Builds a {@link TieredCache}. Not thread-safe.
   *
   * @param <K> the key type
   * @param <V> the value type
   */
  public static final class Builder<K, V> {
    final String name;
    final AbstractRedisClient client; // RedisClient or RedisClusterClient
    String keyPrefix;
    KeyCodec<K> keys;
    ValueCodec<V> values;
    Function<? super K, ? extends V> loader;
    long l1MaxSize = DEFAULT_L1_MAX_SIZE;
    Duration l1Ttl = DEFAULT_L1_TTL;
    Duration l2Ttl = Duration.ofMinutes(10);
    Duration negativeTtl = Duration.ofSeconds(2);
    double ttlJitter = 0.1;
    double refreshAhead = 0.8;
    L1Policy policy = L1Policy.ALL;
    HotKeyDetector<K> detector;
    Duration redisTimeout = Duration.ofMillis(50);
    Duration redisRetryAfter = Duration.ofSeconds(1);
    Duration invalidationBatch = Duration.ofMillis(5);
    String channel;
    InvalidationMode invalidationMode = InvalidationMode.PUB_SUB;
    Duration tombstoneTtl = DEFAULT_INVALIDATION_TOMBSTONE_TTL;
    int maxPendingInvalidations = DEFAULT_MAX_PENDING_INVALIDATIONS;
    RedisLock loadLocks;
    Duration loadLockLease;
    Duration loadLockWait;
    Ticker ticker = Ticker.system();
    final List<TieredCacheListener> listeners = new ArrayList<>();

    private Builder(String name, AbstractRedisClient client) {
      this.name = name;
      this.client = client;
      this.keyPrefix = name;
    }

    /**
     * @param codec turns keys into Redis key text and back; required
     * @return this builder
     */
    public Builder<K, V> keys(KeyCodec<K> codec) {
      this.keys = Checks.requireNonNull("keys", codec);
      return this;
    }

    /**
     * @param codec turns values into Redis bytes and back; required
     * @return this builder
     */
    public Builder<K, V> values(ValueCodec<V> codec) {
      this.values = Checks.requireNonNull("values", codec);
      return this;
    }

    /**
     * @param loader loads a value missing from both levels; null means absent; required
     * @return this builder
     */
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

    /**
     * @param ttl how long Redis keeps a value; positive; default 10 min
     * @return this builder
     */
    public Builder<K, V> l2Ttl(Duration ttl) {
      this.l2Ttl = Checks.requirePositive("l2Ttl", ttl);
      return this;
    }

    /**
     * @param ttl how long an absent value is remembered in both levels; positive; default 2 s
     * @return this builder
     */
    public Builder<K, V> negativeTtl(Duration ttl) {
      this.negativeTtl = Checks.requirePositive("negativeTtl", ttl);
      return this;
    }

    /**
     * @param fraction TTL spread, ± this fraction; in [0, 0.5]; default 0.1
     * @return this builder
     */
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

    /**
     * @param timeout per Redis command; positive; default 50 ms
     * @return this builder
     */
    public Builder<K, V> redisTimeout(Duration timeout) {
      this.redisTimeout = Checks.requirePositive("redisTimeout", timeout);
      return this;
    }

    /**
     * @param wait after a Redis failure, how long to skip Redis; positive; default 1 s
     * @return this builder
     */
    public Builder<K, V> redisRetryAfter(Duration wait) {
      this.redisRetryAfter = Checks.requirePositive("redisRetryAfter", wait);
      return this;
    }

    /**
     * @param window invalidations are published in batches this often (under CLIENT_TRACKING: queued
     *     tombstones are retried this often); positive; default 5 ms
     * @return this builder
     */
    public Builder<K, V> invalidationBatch(Duration window) {
      this.invalidationBatch = Checks.requirePositive("invalidationBatch", window);
      return this;
    }

    /**
     * @param channel the pub/sub channel; default {@code giftkit:invalidate:<keyPrefix>}; only under
     *     {@link InvalidationMode#PUB_SUB}
     * @return this builder
     */
    public Builder<K, V> invalidationChannel(String channel) {
      this.channel = Checks.requireNonBlank("invalidationChannel", channel);
      return this;
    }

    /**
     * Chooses how instances learn of changed keys: {@link InvalidationMode#PUB_SUB} (default) or
     * {@link InvalidationMode#CLIENT_TRACKING} (Redis 6+, a RESP3 client). Every instance of the cache
     * must use the same mode.
     *
     * @param mode the mode; not null
     * @return this builder
     */
    public Builder<K, V> invalidation(InvalidationMode mode) {
      this.invalidationMode = Checks.requireNonNull("invalidation", mode);
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

    /**
     * @param ticker time source for TTLs and retry; default the system ticker
     * @return this builder
     */
    public Builder<K, V> ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /**
     * @param listener hears Redis outages
     * @return this builder
     */
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
     *     HOT_ONLY has no detector, or CLIENT_TRACKING is chosen with an invalidation channel, with
     *     a client configured for RESP2 or with a {@link RedisClusterClient}
     */
    public TieredCache<K, V> build() {
      Checks.requireNonNull("keys", keys);
      Checks.requireNonNull("values", values);
      Checks.requireNonNull("loader", loader);
      if (policy == L1Policy.HOT_ONLY && detector == null) {
        throw Checks.invalid("detector", "must be given with l1Policy HOT_ONLY", null);
      }
      if (invalidationMode == InvalidationMode.CLIENT_TRACKING) {
        if (channel != null) {
          throw Checks.invalid("invalidationChannel", "must not be set with invalidation CLIENT_TRACKING (nothing is"
              + " published)", channel);
        }
        if (client instanceof RedisClusterClient) {
          throw Checks.invalid("client", "must be a RedisClient, not a RedisClusterClient, with invalidation"
              + " CLIENT_TRACKING (tracking is per node; use PUB_SUB on a cluster)", "RedisClusterClient");
        }
        ProtocolVersion protocol = client.getOptions().getConfiguredProtocolVersion();
        if (protocol != null && protocol != ProtocolVersion.RESP3) {
          throw Checks.invalid("client protocolVersion", "must be RESP3 or unset with invalidation CLIENT_TRACKING"
              + " (invalidations arrive as RESP3 push messages)", protocol);
        }
      }
      return new TieredCache<>(this);
    }
  }
}
