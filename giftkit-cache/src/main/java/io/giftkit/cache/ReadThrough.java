package io.giftkit.cache;

import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TieredCache}'s miss path, run once per key at a time (under its {@link SingleFlight}):
 * Redis, then (with the optional load lock) another instance's load, then the loader; and the
 * writes back. The key's L1 generation is taken first, so nothing is written to L1 after an
 * invalidation that came in between; the Redis write is a compare-and-set against what Redis held
 * before the loader ran ({@code SET NX} if it held nothing, else {@link RedisEntries#CAS_SCRIPT}), so
 * nothing is written to Redis after an invalidation of any instance either. Never throws a Redis exception. Thread-safe.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class ReadThrough<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);

  /**
   * What a load saw in Redis before calling the loader: whether Redis answered, and the key's
   * bytes then (null, a tombstone, or undecodable), which the load's write must still find there.
   */
  private record L2Seen(boolean answered, byte[] bytes) {
    static final L2Seen UNKNOWN = new L2Seen(false, null);
  }

  private final String name;
  private final String keyPrefix;
  private final KeyCodec<K> keys;
  private final ValueCodec<V> values;
  private final Function<? super K, ? extends V> loader;
  private final L1Store<K, V> l1;
  private final RedisLink link;
  private final Invalidations invalidations;
  private final CacheCounters counters;
  private final long redisTimeoutNanos;
  private final long l2TtlMillis;
  private final long negativeTtlMillis;
  private final long negativeTtlNanos;
  private final double jitter;
  private final long maxL2WriteAgeNanos;
  private final RedisLock loadLocks;
  private final Duration loadLockLease;
  private final long loadLockWaitNanos;
  private final Set<K> decodeFailuresLogged = ConcurrentHashMap.newKeySet();

  ReadThrough(TieredCache.Builder<K, V> b, L1Store<K, V> l1, RedisLink link, Invalidations invalidations,
      CacheCounters counters) {
    this.name = b.name;
    this.keyPrefix = b.keyPrefix;
    this.keys = b.keys;
    this.values = b.values;
    this.loader = b.loader;
    this.l1 = l1;
    this.link = link;
    this.invalidations = invalidations;
    this.counters = counters;
    this.redisTimeoutNanos = b.redisTimeout.toNanos();
    this.l2TtlMillis = b.l2Ttl.toMillis();
    this.negativeTtlNanos = b.negativeTtl.toNanos();
    this.negativeTtlMillis = Math.max(1, b.negativeTtl.toMillis());
    this.jitter = b.ttlJitter;
    this.maxL2WriteAgeNanos = b.tombstoneTtl.toNanos() / 2;
    this.loadLocks = b.loadLocks;
    this.loadLockLease = b.loadLockLease;
    this.loadLockWaitNanos = b.loadLockWait == null ? 0 : b.loadLockWait.toNanos();
  }

  /** Reads the key through Redis and the loader; the loader's exceptions reach the caller. */
  L1Store.Entry<V> load(K key) {
    long generation = l1.generation(key);
    String text = keys.format(key);
    L2Seen seen = L2Seen.UNKNOWN;
    RedisClusterAsyncCommands<String, byte[]> c = invalidations.pending(text) ? null : link.commandsIfUsable();
    if (c != null) {
      try {
        byte[] bytes = c.get(invalidations.redisKey(text)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        link.answered();
        L1Store.Entry<V> decoded = bytes == null || RedisEntries.isTombstone(bytes) ? null : decode(key, bytes);
        if (decoded != null) {
          counters.l2Hits.increment();
          return l1.keep(key, decoded.value(), decoded.value() == null, generation);
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
          L1Store.Entry<V> loadedElsewhere = awaitOtherInstancesLoad(key, text, generation);
          if (loadedElsewhere != null) {
            return loadedElsewhere;
          }
        }
      } catch (RuntimeException e) {
        link.failed(e); // no lock: load here, as without one
      }
    }
    counters.l2Misses.increment();
    try {
      return callLoader(key, text, generation, seen);
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
   * Writes a {@code put}'s value to Redis unconditionally (the last writer wins).
   *
   * @return whether Redis took it
   */
  boolean write(String text, V value) {
    byte[] bytes = RedisEntries.present(values.encode(value));
    RedisClusterAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c == null) {
      return false;
    }
    try {
      c.set(invalidations.redisKey(text), bytes, SetArgs.Builder.px(jitteredMillis(l2TtlMillis)))
          .get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
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

  /**
   * Another instance holds the load lock for {@code key}: poll Redis for the value it will write,
   * up to {@code loadLockWait}; null if it did not appear (then this instance loads too).
   */
  private L1Store.Entry<V> awaitOtherInstancesLoad(K key, String text, long generation) {
    counters.loadLockWaits.increment();
    long deadline = System.nanoTime() + loadLockWaitNanos;
    while (System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(Math.min(10_000_000L, loadLockWaitNanos / 10 + 1));
      RedisClusterAsyncCommands<String, byte[]> c = link.commands();
      if (c == null) {
        return null;
      }
      try {
        byte[] bytes = c.get(invalidations.redisKey(text)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        if (bytes != null && !RedisEntries.isTombstone(bytes)) {
          L1Store.Entry<V> decoded = decode(key, bytes);
          if (decoded != null) {
            counters.l2Hits.increment();
            return l1.keep(key, decoded.value(), decoded.value() == null, generation);
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

  private L1Store.Entry<V> callLoader(K key, String text, long generation, L2Seen seen) {
    counters.loads.increment();
    long started = System.nanoTime();
    V value;
    try {
      value = loader.apply(key);
    } catch (RuntimeException | Error e) {
      counters.loadFailures.increment();
      throw e;
    }
    if (seen.answered() && System.nanoTime() - started < maxL2WriteAgeNanos
        && l1.generation(key) == generation && !invalidations.pending(text)) {
      if (value == null) {
        compareAndSet(text, seen.bytes(), RedisEntries.absent(), negativeTtlMillis);
      } else {
        compareAndSet(text, seen.bytes(), RedisEntries.present(values.encode(value)), jitteredMillis(l2TtlMillis));
      }
    }
    return l1.keep(key, value, value == null, generation);
  }

  /** Writes a loaded value only if the key still holds {@code expected} (null: nothing). */
  private void compareAndSet(String text, byte[] expected, byte[] bytes, long ttlMillis) {
    RedisClusterAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c == null) {
      return;
    }
    try {
      boolean written;
      if (expected == null) {
        // A plain SET NX, not the script: under client tracking Redis 7.0 attributes a script's write
        // to the script, not to this connection, so NOLOOP would not spare this instance's own L1 copy.
        written = c.set(invalidations.redisKey(text), bytes, SetArgs.Builder.nx().px(ttlMillis))
            .get(redisTimeoutNanos, TimeUnit.NANOSECONDS) != null;
      } else {
        Long n = c.<Long>eval(RedisEntries.CAS_SCRIPT, RedisEntries.CAS_OUTPUT,
            new String[] {invalidations.redisKey(text)}, expected, bytes,
            RedisEntries.millis(ttlMillis)).get(redisTimeoutNanos, TimeUnit.NANOSECONDS);
        written = n != null && n != 0;
      }
      link.answered();
      if (!written) {
        counters.staleLoadWritesSkipped.increment();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      link.failed(e);
    } catch (Exception e) {
      link.failed(e);
    }
  }

  private L1Store.Entry<V> decode(K key, byte[] bytes) {
    try {
      if (bytes.length >= 1 && bytes[0] == RedisEntries.ABSENT) {
        return new L1Store.Entry<>(null, 0, negativeTtlNanos);
      }
      if (bytes.length >= 1 && bytes[0] == RedisEntries.PRESENT) {
        byte[] body = new byte[bytes.length - 1];
        System.arraycopy(bytes, 1, body, 0, body.length);
        return new L1Store.Entry<>(values.decode(body), 0, 0);
      }
      throw new IllegalArgumentException("unknown entry header " + (bytes.length == 0 ? "(empty)" : bytes[0]));
    } catch (RuntimeException e) {
      counters.decodeFailures.increment();
      if (decodeFailuresLogged.size() < 10_000 && decodeFailuresLogged.add(key)) {
        LOG.warn("GiftKit cache '{}': the Redis value of key {} could not be decoded; it will be loaded"
            + " again and replaced (further failures of this key are not logged)", name, key, e);
      }
      return null;
    }
  }

  private long jitteredMillis(long millis) {
    if (jitter == 0) {
      return millis;
    }
    double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Math.max(1, (long) (millis * factor));
  }
}
