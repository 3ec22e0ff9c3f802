package io.giftkit.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * rooms.invalidate(42L);    // after the database changed: L2 deleted, every instance drops its L1 copy
 * }</pre>
 *
 * <p><b>Consistency.</b> {@link #put} and {@link #invalidate} write Redis and publish the key on a
 * pub/sub channel; every instance drops it from L1. Pub/sub is not durable: an invalidation can be
 * lost, so an L1 copy is never older than the L1 TTL, and L1 is cleared whenever the pub/sub
 * connection reconnects (invalidations may have been missed meanwhile). Invalidations are batched
 * (one message per {@code invalidationBatch} window) under write bursts.
 *
 * <p><b>Redis down.</b> A Redis command that fails or exceeds {@code redisTimeout} (default 50 ms)
 * is counted, reported once to {@link TieredCacheListener#onRedisDown}, and reads fall through to the
 * loader; for the next {@code redisRetryAfter} (default 1 s) Redis is not asked at all, then it is
 * tried again. A read never throws a Redis exception; the loader's own exceptions do reach the
 * caller (and every caller coalesced onto that load).
 *
 * <p><b>Expiry.</b> L2 TTLs are spread by ±{@code ttlJitter} (default 10%) so keys written together
 * do not expire together in Redis (L1 TTLs are short and per instance, and a miss is coalesced, so
 * L1 keeps a fixed TTL, which keeps its hit path as cheap as Caffeine's own). Under {@code HOT_ONLY}, a hot key whose L1 copy is past
 * {@code refreshAhead} (default 80%) of its TTL is reloaded in the background while the copy is
 * served, so hot keys never hit a hard expiry.
 *
 * <p>Thread-safe. {@link #get} blocks for at most the Redis timeout plus the loader's time. An L1
 * hit reads Caffeine once and allocates nothing.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class TieredCache<K, V> implements AutoCloseable {

  /** Default most keys in L1. */
  public static final long DEFAULT_L1_MAX_SIZE = 10_000;
  /** Default L1 time to live. */
  public static final Duration DEFAULT_L1_TTL = Duration.ofSeconds(5);

  /** Which keys live in L1. */
  public enum L1Policy {
    /** Every key read. */
    ALL,
    /** Only keys the {@link HotKeyDetector} says are hot (the reference platform's promotion). */
    HOT_ONLY
  }

  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);
  private static final byte ABSENT = 0;
  private static final byte PRESENT = 1;
  private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

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
  private final long redisRetryAfterNanos;
  private final String channel;
  private final String instanceId = UUID.randomUUID().toString();
  private final Cache<K, Entry<V>> l1;
  private final SingleFlight<K, Entry<V>> flights;
  private final StatefulRedisConnection<String, byte[]> redis;
  private final RedisAsyncCommands<String, byte[]> commands;
  private final StatefulRedisPubSubConnection<String, String> pubSub;
  private final ScheduledExecutorService background;
  private final ConcurrentLinkedQueue<String> pendingInvalidations = new ConcurrentLinkedQueue<>();
  private final Listeners<TieredCacheListener> listeners;
  private final Set<K> decodeFailuresLogged = ConcurrentHashMap.newKeySet();
  private final Set<K> refreshing = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean redisDown = new AtomicBoolean();
  private volatile long redisRetryAt;
  private final LongAdder l1Hits = new LongAdder();
  private final LongAdder l1Misses = new LongAdder();
  private final LongAdder l2Hits = new LongAdder();
  private final LongAdder l2Misses = new LongAdder();
  private final LongAdder loads = new LongAdder();
  private final LongAdder loadFailures = new LongAdder();
  private final LongAdder promotions = new LongAdder();
  private final LongAdder demotions = new LongAdder();
  private final LongAdder invalidationsSent = new LongAdder();
  private final LongAdder invalidationsReceived = new LongAdder();
  private final LongAdder redisErrors = new LongAdder();
  private final LongAdder decodeFailures = new LongAdder();
  private final LongAdder loadLockWaits = new LongAdder();
  private final RedisLock loadLocks;
  private final Duration loadLockLease;
  private final long loadLockWaitNanos;

  /** An L1 entry: the value (null when absent), when it was stored, and for how long it is good. */
  private record Entry<V>(V value, long storedAtNanos, long ttlNanos) {}

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
    this.redisRetryAfterNanos = b.redisRetryAfter.toNanos();
    this.channel = b.channel != null ? b.channel : "giftkit:invalidate:" + b.keyPrefix;
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
    this.background = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-cache-" + b.name);
      t.setDaemon(true);
      return t;
    });
    this.redis = b.client.connect(CODEC);
    this.commands = redis.async();
    this.pubSub = b.client.connectPubSub();
    this.pubSub.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String ch, String message) {
        onInvalidation(message);
      }
    });
    this.pubSub.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
        // A reconnect: invalidations may have been missed while disconnected.
        l1.invalidateAll();
      }
    });
    this.pubSub.sync().subscribe(channel);
    long batchNanos = b.invalidationBatch.toNanos();
    background.scheduleWithFixedDelay(this::flushInvalidations, batchNanos, batchNanos, TimeUnit.NANOSECONDS);
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
   *     closes them on {@link #close()}; the client itself stays the caller's
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(String name, RedisClient client) {
    return new Builder<>(Checks.requireNonBlank("name", name), Checks.requireNonNull("client", client));
  }

  /**
   * Returns the value for {@code key}: from L1, else Redis, else the loader (and then it is written to
   * Redis and, per the L1 policy, to L1).
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
   * If Redis is down the value reaches L1 only (and the failure is counted and reported).
   *
   * @param key the key; not null
   * @param value the value; not null
   */
  public void put(K key, V value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    writeL2(key, value);
    keepInL1(key, value, false);
    publish(key);
  }

  /**
   * Drops a key everywhere: Redis, this instance's L1, and (by pub/sub) every other instance's L1.
   *
   * @param key the key; not null
   */
  public void invalidate(K key) {
    Objects.requireNonNull(key, "key");
    l1.invalidate(key);
    flights.forget(key);
    if (redisUsable()) {
      try {
        commands.del(redisKey(key)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        redisAnswered();
      } catch (Exception e) {
        redisFailed(e);
      }
    }
    publish(key);
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
        loads.sum(), loadFailures.sum(), promotions.sum(), demotions.sum(), invalidationsSent.sum(),
        invalidationsReceived.sum(), redisErrors.sum(), decodeFailures.sum(), loadLockWaits.sum());
  }

  /** @return whether Redis is currently considered down */
  public boolean isRedisDown() {
    return redisDown.get();
  }

  /**
   * Adds a listener.
   *
   * @param listener the listener
   */
  public void addListener(TieredCacheListener listener) {
    listeners.add(listener);
  }

  /** Publishes pending invalidations, then closes the cache's Redis connections and thread. */
  @Override
  public void close() {
    background.shutdown();
    flushInvalidations();
    pubSub.close();
    redis.close();
  }

  private Entry<V> loadThrough(K key) {
    if (redisUsable()) {
      byte[] bytes = null;
      boolean answered = false;
      try {
        bytes = commands.get(redisKey(key)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        answered = true;
        redisAnswered();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        redisFailed(e);
      } catch (Exception e) {
        redisFailed(e);
      }
      if (answered && bytes != null) {
        Entry<V> decoded = decode(key, bytes);
        if (decoded != null) {
          l2Hits.increment();
          keepInL1(key, decoded.value(), decoded.value() == null);
          return decoded;
        }
      }
    }
    RedisLock.Lease lease = null;
    if (loadLocks != null && redisUsable()) {
      try {
        lease = loadLocks.tryAcquire(keyPrefix + ":load:" + keys.format(key), loadLockLease).orElse(null);
        if (lease == null) {
          Entry<V> loadedElsewhere = awaitOtherInstancesLoad(key);
          if (loadedElsewhere != null) {
            return loadedElsewhere;
          }
        }
      } catch (RuntimeException e) {
        redisFailed(e); // no lock: load here, as without one
      }
    }
    l2Misses.increment();
    try {
      return load(key);
    } finally {
      if (lease != null) {
        try {
          lease.release();
        } catch (RuntimeException e) {
          redisFailed(e); // the lease expires by itself
        }
      }
    }
  }

  /**
   * Another instance holds the load lock for {@code key}: poll Redis for the value it will write,
   * up to {@code loadLockWait}; null if it did not appear (then this instance loads too).
   */
  private Entry<V> awaitOtherInstancesLoad(K key) {
    loadLockWaits.increment();
    long deadline = System.nanoTime() + loadLockWaitNanos;
    while (System.nanoTime() - deadline < 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(Math.min(10_000_000L, loadLockWaitNanos / 10 + 1));
      try {
        byte[] bytes = commands.get(redisKey(key)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        if (bytes != null) {
          Entry<V> decoded = decode(key, bytes);
          if (decoded != null) {
            l2Hits.increment();
            return keepInL1(key, decoded.value(), decoded.value() == null);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      } catch (Exception e) {
        redisFailed(e);
        return null;
      }
    }
    return null;
  }

  private Entry<V> load(K key) {
    loads.increment();
    V value;
    try {
      value = loader.apply(key);
    } catch (RuntimeException | Error e) {
      loadFailures.increment();
      throw e;
    }
    if (value == null) {
      writeAbsentL2(key);
    } else {
      writeL2(key, value);
    }
    return keepInL1(key, value, value == null);
  }

  /** Puts a value in L1 if the policy wants it there; returns the entry either way. */
  private Entry<V> keepInL1(K key, V value, boolean absent) {
    long ttl = absent ? Math.min(negativeTtlNanos, l1TtlNanos) : l1TtlNanos;
    Entry<V> entry = new Entry<>(value, ticker.read(), ttl);
    if (policy == L1Policy.ALL || detector.isHot(key)) {
      if (l1.asMap().put(key, entry) == null && policy == L1Policy.HOT_ONLY) {
        promotions.increment();
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
      if (bytes.length >= 1 && bytes[0] == ABSENT) {
        return new Entry<>(null, ticker.read(), negativeTtlNanos);
      }
      if (bytes.length >= 1 && bytes[0] == PRESENT) {
        byte[] body = new byte[bytes.length - 1];
        System.arraycopy(bytes, 1, body, 0, body.length);
        return new Entry<>(values.decode(body), ticker.read(), 0);
      }
      throw new IllegalArgumentException("unknown entry header " + (bytes.length == 0 ? "(empty)" : bytes[0]));
    } catch (RuntimeException e) {
      decodeFailures.increment();
      if (decodeFailuresLogged.size() < 10_000 && decodeFailuresLogged.add(key)) {
        LOG.warn("GiftKit cache '{}': the Redis value of key {} could not be decoded; it was deleted and"
            + " will be loaded again (further failures of this key are not logged)", name, key, e);
      }
      commands.del(redisKey(key));
      return null;
    }
  }

  private void writeL2(K key, V value) {
    byte[] body = values.encode(value);
    byte[] bytes = new byte[body.length + 1];
    bytes[0] = PRESENT;
    System.arraycopy(body, 0, bytes, 1, body.length);
    setL2(key, bytes, jitteredMillis(l2TtlMillis));
  }

  private void writeAbsentL2(K key) {
    setL2(key, new byte[] {ABSENT}, Math.max(1, TimeUnit.NANOSECONDS.toMillis(negativeTtlNanos)));
  }

  private void setL2(K key, byte[] bytes, long ttlMillis) {
    if (!redisUsable()) {
      return;
    }
    try {
      commands.set(redisKey(key), bytes, SetArgs.Builder.px(ttlMillis)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
      redisAnswered();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      redisFailed(e);
    } catch (Exception e) {
      redisFailed(e);
    }
  }

  private void publish(K key) {
    pendingInvalidations.add(keys.format(key));
  }

  private void flushInvalidations() {
    if (pendingInvalidations.isEmpty()) {
      return;
    }
    StringBuilder message = new StringBuilder(instanceId);
    int count = 0;
    for (String k; (k = pendingInvalidations.poll()) != null; ) {
      message.append('\n').append(k);
      count++;
    }
    try {
      pubSubPublish(message.toString());
      invalidationsSent.add(count);
    } catch (RuntimeException e) {
      redisFailed(e);
    }
  }

  private void pubSubPublish(String message) {
    // PUBLISH is allowed on any connection; use the command connection (a subscribed one cannot publish).
    commands.publish(channel, message.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void onInvalidation(String message) {
    String[] lines = message.split("\n");
    if (lines.length == 0 || lines[0].equals(instanceId)) {
      return;
    }
    for (int i = 1; i < lines.length; i++) {
      try {
        K key = keys.parse(lines[i]);
        l1.invalidate(key);
        flights.forget(key);
        invalidationsReceived.increment();
      } catch (RuntimeException e) {
        LOG.warn("GiftKit cache '{}': could not parse invalidated key '{}'", name, lines[i], e);
      }
    }
  }

  private boolean redisUsable() {
    return !redisDown.get() || ticker.read() - redisRetryAt >= 0;
  }

  private void redisAnswered() {
    if (redisDown.compareAndSet(true, false)) {
      LOG.info("GiftKit cache '{}': Redis answers again", name);
      listeners.fire(l -> l.onRedisUp(name));
    }
  }

  private void redisFailed(Throwable cause) {
    redisErrors.increment();
    redisRetryAt = ticker.read() + redisRetryAfterNanos;
    if (redisDown.compareAndSet(false, true)) {
      LOG.warn("GiftKit cache '{}': Redis failed or timed out ({}); serving L1 and the loader for now", name,
          cause.toString());
      listeners.fire(l -> l.onRedisDown(name, cause));
    }
  }

  private String redisKey(K key) {
    return keyPrefix + ":" + keys.format(key);
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
    return "TieredCache{name=" + name + ", policy=" + policy + ", redisDown=" + redisDown.get() + "}";
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
     * Builds the cache, opening its Redis connections.
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
