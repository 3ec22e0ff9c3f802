package io.giftkit.mq;

import io.giftkit.core.Checks;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency keys in Redis, for handlers whose effects are not in a database the consumer can share a
 * transaction with. Used through {@link GiftkitConsumer.Builder#idempotentBatchHandler}. Needs
 * Lettuce on the class path (an optional dependency of giftkit-mq).
 *
 * <p>A claim is {@code SET <prefix><group>:<key> pending:<token> NX PX <lease>}, pipelined for a
 * whole batch. After the handler succeeded the key becomes {@code done} for {@code doneTtl}; after it
 * failed the claim is released (compare-and-delete) so the retry can claim it. A key another consumer
 * holds as pending (a rebalance in flight) fails the attempt, which is retried.
 *
 * <p><b>Claims that time out are released by their owner.</b> A claim whose round trip fails or
 * times out may still have reached Redis, leaving keys that hold this attempt's token. The store
 * then compare-and-deletes every key of the attempt that holds its token (commands on one connection
 * run in order, so this also catches a {@code SET} that lands late), and remembers the attempt's token
 * per key until that release is confirmed. A later claim that finds a key holding one of this store's
 * remembered tokens takes it over (compare-and-set to its own token) instead of treating it as held by
 * another consumer: the retry applies the record rather than failing until it is dead-lettered. The
 * same holds for a release after a failed handler that does not get through. At most
 * {@value #MAX_REMEMBERED} remembered tokens are kept (oldest dropped: such a key just waits for its
 * lease to expire, as before).
 *
 * <p><b>Guarantee.</b> Records whose key is {@code done} are skipped for {@code doneTtl} (default 7
 * days: keep it longer than the topic's retention). The claim is <em>not</em> atomic with the
 * handler's effects: if the process dies after the effects and before the key is marked done, the
 * claim expires after its lease and the redelivered record is applied again. So effects are at least
 * once; exactly once only if the handler's effects are themselves idempotent, or with the JDBC store
 * in the handler's transaction. A Redis failover that loses writes can also let a duplicate through.
 * While Redis cannot be reached, attempts fail and are retried (then dead-lettered): nothing is lost.
 *
 * <p><b>Redis Cluster.</b> {@link #create(StatefulRedisClusterConnection, String, Duration, Duration,
 * Duration)} takes a cluster connection: each key's commands go to the master of its slot (the Lua
 * scripts name one key), pipelined per node; commands on one key still run in order, as they go over
 * that node's one connection.
 *
 * <p>Thread-safe (Lettuce connections are). Over 400 lines because {@link Claims}, which shares the
 * store's remembered tokens and fault hook, is nested in it.
 */
public final class RedisIdempotencyStore {

  /** Default time a claim is held while its handler runs. */
  public static final Duration DEFAULT_LEASE = Duration.ofMinutes(2);
  /** Default time a done key is remembered. */
  public static final Duration DEFAULT_DONE_TTL = Duration.ofDays(7);
  /** Default time a Redis round trip may take. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(RedisIdempotencyStore.class);
  private static final String DONE = "done";
  private static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then"
      + " return redis.call('del', KEYS[1]) else return 0 end";
  private static final String TAKE_OVER = "if redis.call('get', KEYS[1]) == ARGV[1] then"
      + " redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";
  /** Most tokens of timed-out claims remembered (per store). */
  static final int MAX_REMEMBERED = 10_000;

  /** What a test makes a round trip do (package-private hook; production never sets it). */
  enum Fault {
    /** As Redis answers. */
    NONE,
    /** Sent and answered, then reported as timed out (the commands took effect). */
    TIME_OUT_AFTER_SENT,
    /** Reported as timed out without being sent (the commands never took effect). */
    TIME_OUT_UNSENT
  }

  private final RedisClusterAsyncCommands<String, String> redis; // a connection's, or a cluster connection's
  private final String prefix;
  private final long leaseMillis;
  private final long doneTtlMillis;
  private final Duration timeout;
  private final LongAdder completeFailures = new LongAdder();
  private final LongAdder takenOver = new LongAdder();
  /** Redis key → the token of one of this store's attempts that may still hold it (access-ordered, bounded). */
  private final Map<String, String> remembered = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };
  private volatile Function<String, Fault> faults = roundTrip -> Fault.NONE;

  private RedisIdempotencyStore(RedisClusterAsyncCommands<String, String> redis, String prefix, Duration lease,
      Duration doneTtl, Duration timeout) {
    this.redis = redis;
    this.prefix = prefix;
    this.leaseMillis = lease.toMillis();
    this.doneTtlMillis = doneTtl.toMillis();
    this.timeout = timeout;
  }

  /**
   * A store with the defaults: prefix {@code giftkit:idem:}, lease 2 min, done keys kept 7 days, 1 s timeout.
   *
   * @param connection a Lettuce connection (shared; not closed by the store)
   * @return the store
   */
  public static RedisIdempotencyStore create(StatefulRedisConnection<String, String> connection) {
    return create(connection, "giftkit:idem:", DEFAULT_LEASE, DEFAULT_DONE_TTL, DEFAULT_TIMEOUT);
  }

  /**
   * @param connection a Lettuce connection (shared; not closed by the store)
   * @param prefix the Redis key prefix; not blank
   * @param lease how long a claim is held while its handler runs; longer than the consumer's max
   *     processing time; at least 1 s
   * @param doneTtl how long a done key is remembered; at least the lease
   * @param timeout how long a round trip may take; positive
   * @return the store
   */
  public static RedisIdempotencyStore create(StatefulRedisConnection<String, String> connection, String prefix,
      Duration lease, Duration doneTtl, Duration timeout) {
    Checks.requireNonNull("connection", connection);
    return create(connection.async(), prefix, lease, doneTtl, timeout);
  }

  /**
   * A store on a Redis Cluster (see the class javadoc).
   *
   * @param connection a Lettuce cluster connection (shared; not closed by the store)
   * @param prefix the Redis key prefix; not blank
   * @param lease how long a claim is held while its handler runs; longer than the consumer's max
   *     processing time; at least 1 s
   * @param doneTtl how long a done key is remembered; at least the lease
   * @param timeout how long a round trip may take; positive
   * @return the store
   */
  public static RedisIdempotencyStore create(StatefulRedisClusterConnection<String, String> connection, String prefix,
      Duration lease, Duration doneTtl, Duration timeout) {
    Checks.requireNonNull("connection", connection);
    return create(connection.async(), prefix, lease, doneTtl, timeout);
  }

  private static RedisIdempotencyStore create(RedisClusterAsyncCommands<String, String> redis, String prefix,
      Duration lease, Duration doneTtl, Duration timeout) {
    Checks.requireNonBlank("prefix", prefix);
    Checks.requirePositive("lease", lease);
    if (lease.toMillis() < 1_000) {
      throw Checks.invalid("lease", "must be at least 1s", lease);
    }
    Checks.requirePositive("doneTtl", doneTtl);
    if (doneTtl.compareTo(lease) < 0) {
      throw Checks.invalid("doneTtl", "must be at least the lease (" + Checks.describe(lease) + ")", doneTtl);
    }
    Checks.requirePositive("timeout", timeout);
    return new RedisIdempotencyStore(redis, prefix, lease, doneTtl, timeout);
  }

  /** @return keys whose handler succeeded but could not be marked done (their claims expire after the lease) */
  public long completeFailures() {
    return completeFailures.sum();
  }

  /** @return keys left holding a token of this store's timed-out attempt and claimed back by a later attempt */
  public long takenOver() {
    return takenOver.sum();
  }

  /** Test hook: what each round trip ({@code claim}, {@code lookup}, {@code takeover}, {@code release}, {@code complete}) does. */
  void injectFaults(Function<String, Fault> faults) {
    this.faults = faults;
  }

  /** @return how many keys this store remembers as possibly holding a token of its own */
  int remembered() {
    synchronized (remembered) {
      return remembered.size();
    }
  }

  /**
   * Claims distinct keys at once.
   *
   * @param group the consumer group
   * @param keys distinct business keys
   * @return the claims: which keys were new, and how to complete or release them
   * @throws IllegalStateException if another consumer holds one of the keys as pending (try again later)
   * @throws Exception if Redis fails or does not answer within the timeout; this attempt's keys are
   *     then released (or remembered as its own for the retry, see the class javadoc)
   */
  public Claims claimAll(String group, Collection<String> keys) throws Exception {
    String token = "pending:" + UUID.randomUUID();
    List<String> all = new ArrayList<>(keys);
    Set<String> won = new LinkedHashSet<>();
    String heldElsewhere = null;
    String heldValue = null;
    try {
      SetArgs nx = SetArgs.Builder.nx().px(leaseMillis);
      List<RedisFuture<String>> sets = roundTrip("claim", () -> {
        List<RedisFuture<String>> f = new ArrayList<>(all.size());
        for (String key : all) {
          f.add(redis.set(redisKey(group, key), token, nx));
        }
        return f;
      });
      List<String> taken = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        if ("OK".equals(sets.get(i).get())) {
          won.add(all.get(i));
        } else {
          taken.add(all.get(i));
        }
      }
      if (!taken.isEmpty()) {
        List<RedisFuture<String>> gets = roundTrip("lookup", () -> {
          List<RedisFuture<String>> f = new ArrayList<>(taken.size());
          for (String key : taken) {
            f.add(redis.get(redisKey(group, key)));
          }
          return f;
        });
        List<String> ours = new ArrayList<>();
        List<String> oursWas = new ArrayList<>();
        for (int i = 0; i < taken.size() && heldElsewhere == null; i++) {
          String value = gets.get(i).get();
          String mine = value == null ? null : rememberedToken(redisKey(group, taken.get(i)));
          if (DONE.equals(value)) {
            continue; // applied before: a duplicate
          } else if (value != null && value.equals(mine)) {
            ours.add(taken.get(i)); // left by one of this store's attempts that timed out
            oursWas.add(value);
          } else { // pending elsewhere, or expired since our SET: not known to be applied
            heldElsewhere = taken.get(i);
            heldValue = value;
          }
        }
        if (heldElsewhere == null && !ours.isEmpty()) {
          List<RedisFuture<Long>> swaps = roundTrip("takeover", () -> {
            List<RedisFuture<Long>> f = new ArrayList<>(ours.size());
            for (int i = 0; i < ours.size(); i++) {
              f.add(redis.eval(TAKE_OVER, ScriptOutputType.INTEGER, new String[] {redisKey(group, ours.get(i))},
                  oursWas.get(i), token, Long.toString(leaseMillis)));
            }
            return f;
          });
          for (int i = 0; i < ours.size() && heldElsewhere == null; i++) {
            if (Long.valueOf(1).equals(swaps.get(i).get())) {
              won.add(ours.get(i));
              forget(redisKey(group, ours.get(i)), oursWas.get(i));
              takenOver.increment();
            } else {
              heldElsewhere = ours.get(i); // changed under us (expired, or claimed by another consumer)
            }
          }
        }
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      // Some of this attempt's SETs may have reached Redis (or will): give back every key holding our token.
      LOG.warn("Redis idempotency: claiming {} key(s) of group '{}' failed ({}); releasing this attempt's claims",
          all.size(), group, e.toString());
      new Claims(group, token, new LinkedHashSet<>(all)).release();
      throw e;
    }
    Set<String> fresh = new LinkedHashSet<>();
    for (String key : all) {
      if (won.contains(key)) {
        fresh.add(key);
      }
    }
    Claims claims = new Claims(group, token, fresh);
    if (heldElsewhere != null) {
      claims.release();
      throw new IllegalStateException("idempotency key '" + heldElsewhere + "' of group '" + group
          + "' is being handled by another consumer (" + (heldValue == null ? "claim just expired" : "pending")
          + "); try again later");
    }
    return claims;
  }

  private <T> List<RedisFuture<T>> roundTrip(String what, Supplier<List<RedisFuture<T>>> send) throws Exception {
    Fault fault = faults.apply(what);
    if (fault == Fault.TIME_OUT_UNSENT) {
      throw new TimeoutException("Redis did not answer the " + what + " round trip within "
          + Checks.describe(timeout) + " (injected, not sent)");
    }
    List<RedisFuture<T>> futures = send.get();
    await(futures);
    if (fault == Fault.TIME_OUT_AFTER_SENT) {
      throw new TimeoutException("Redis did not answer the " + what + " round trip within "
          + Checks.describe(timeout) + " (injected, after it took effect)");
    }
    return futures;
  }

  private String rememberedToken(String redisKey) {
    synchronized (remembered) {
      return remembered.get(redisKey);
    }
  }

  private void remember(String redisKey, String token) {
    synchronized (remembered) {
      remembered.put(redisKey, token);
    }
  }

  private void forget(String redisKey, String token) {
    synchronized (remembered) {
      remembered.remove(redisKey, token);
    }
  }

  private String redisKey(String group, String key) {
    return prefix + group + ":" + key;
  }

  private void await(List<? extends RedisFuture<?>> futures) throws Exception {
    if (!LettuceFutures.awaitAll(timeout.toMillis(), TimeUnit.MILLISECONDS, futures.toArray(new RedisFuture<?>[0]))) {
      throw new java.util.concurrent.TimeoutException("Redis did not answer " + futures.size()
          + " idempotency command(s) within " + Checks.describe(timeout));
    }
  }

  @Override
  public String toString() {
    return "RedisIdempotencyStore{prefix=" + prefix + ", lease=" + leaseMillis + "ms, doneTtl=" + doneTtlMillis + "ms}";
  }

  /** The keys one batch claimed. */
  public final class Claims {
    private final String group;
    private final String token;
    private final Set<String> fresh;

    private Claims(String group, String token, Set<String> fresh) {
      this.group = group;
      this.token = token;
      this.fresh = fresh;
    }

    /** @return the keys that were new (handle these records) */
    public Set<String> fresh() {
      return fresh;
    }

    /** Marks the fresh keys done, after their handler succeeded. Never throws: a failure is logged and counted. */
    public void complete() {
      if (fresh.isEmpty()) {
        return;
      }
        List<RedisFuture<String>> sets = new ArrayList<>(fresh.size());
      SetArgs px = SetArgs.Builder.px(doneTtlMillis);
      for (String key : fresh) {
        sets.add(redis.set(redisKey(group, key), DONE, px));
      }
      try {
        await(sets);
        for (RedisFuture<String> f : sets) {
          f.get();
        }
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        completeFailures.add(fresh.size());
        LOG.warn("Redis idempotency: marking {} key(s) of group '{}' done failed ({}); their claims expire after"
            + " the lease, so a redelivery of those records would be applied again", fresh.size(), group,
            e.toString());
      }
    }

    /**
     * Releases the fresh keys (compare-and-delete), after their handler failed. Never throws: keys
     * whose release does not get through are remembered as this store's own, so a later claim of
     * them by this store takes them over.
     */
    public void release() {
      if (fresh.isEmpty()) {
        return;
      }
        List<String> keys = new ArrayList<>(fresh.size());
      for (String key : fresh) {
        keys.add(redisKey(group, key));
        remember(redisKey(group, key), token); // until the release is confirmed
      }
      try {
        roundTrip("release", () -> {
          List<RedisFuture<Long>> dels = new ArrayList<>(keys.size());
          for (String key : keys) {
            dels.add(redis.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, token));
          }
          return dels;
        });
        for (String key : keys) {
          forget(key, token);
        }
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        LOG.warn("Redis idempotency: releasing {} key(s) of group '{}' failed ({}); a retry by this store takes"
            + " them over, others wait until their claims expire", fresh.size(), group, e.toString());
      }
    }
  }
}
