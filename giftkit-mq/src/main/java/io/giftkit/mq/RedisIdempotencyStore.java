package io.giftkit.mq;

import io.giftkit.core.Checks;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * <p><b>Guarantee.</b> Records whose key is {@code done} are skipped for {@code doneTtl} (default 7
 * days: keep it longer than the topic's retention). The claim is <em>not</em> atomic with the
 * handler's effects: if the process dies after the effects and before the key is marked done, the
 * claim expires after its lease and the redelivered record is applied again. So effects are at least
 * once; exactly once only if the handler's effects are themselves idempotent, or with the JDBC store
 * in the handler's transaction. A Redis failover that loses writes can also let a duplicate through.
 * While Redis cannot be reached, attempts fail and are retried (then dead-lettered): nothing is lost.
 *
 * <p>Thread-safe (Lettuce connections are).
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

  private final StatefulRedisConnection<String, String> connection;
  private final String prefix;
  private final long leaseMillis;
  private final long doneTtlMillis;
  private final Duration timeout;
  private final LongAdder completeFailures = new LongAdder();

  private RedisIdempotencyStore(StatefulRedisConnection<String, String> connection, String prefix, Duration lease,
      Duration doneTtl, Duration timeout) {
    this.connection = connection;
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
    return new RedisIdempotencyStore(connection, prefix, lease, doneTtl, timeout);
  }

  /** @return keys whose handler succeeded but could not be marked done (their claims expire after the lease) */
  public long completeFailures() {
    return completeFailures.sum();
  }

  /**
   * Claims distinct keys at once.
   *
   * @param group the consumer group
   * @param keys distinct business keys
   * @return the claims: which keys were new, and how to complete or release them
   * @throws IllegalStateException if another consumer holds one of the keys as pending (try again later)
   * @throws Exception if Redis fails or does not answer within the timeout
   */
  public Claims claimAll(String group, Collection<String> keys) throws Exception {
    String token = "pending:" + UUID.randomUUID();
    RedisAsyncCommands<String, String> redis = connection.async();
    List<String> all = new ArrayList<>(keys);
    List<RedisFuture<String>> sets = new ArrayList<>(all.size());
    SetArgs nx = SetArgs.Builder.nx().px(leaseMillis);
    for (String key : all) {
      sets.add(redis.set(redisKey(group, key), token, nx));
    }
    await(sets);
    Set<String> fresh = new LinkedHashSet<>();
    List<String> taken = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if ("OK".equals(sets.get(i).get())) {
        fresh.add(all.get(i));
      } else {
        taken.add(all.get(i));
      }
    }
    Claims claims = new Claims(group, token, fresh);
    if (!taken.isEmpty()) {
      List<RedisFuture<String>> gets = new ArrayList<>(taken.size());
      for (String key : taken) {
        gets.add(redis.get(redisKey(group, key)));
      }
      await(gets);
      for (int i = 0; i < taken.size(); i++) {
        String value = gets.get(i).get();
        if (!DONE.equals(value)) { // pending elsewhere, or expired since our SET: not known to be applied
          claims.release();
          throw new IllegalStateException("idempotency key '" + taken.get(i) + "' of group '" + group
              + "' is being handled by another consumer (" + (value == null ? "claim just expired" : "pending")
              + "); try again later");
        }
      }
    }
    return claims;
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
      RedisAsyncCommands<String, String> redis = connection.async();
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

    /** Releases the fresh keys (compare-and-delete), after their handler failed. Never throws. */
    public void release() {
      if (fresh.isEmpty()) {
        return;
      }
      RedisAsyncCommands<String, String> redis = connection.async();
      List<RedisFuture<Long>> dels = new ArrayList<>(fresh.size());
      for (String key : fresh) {
        dels.add(redis.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {redisKey(group, key)}, token));
      }
      try {
        await(dels);
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        LOG.warn("Redis idempotency: releasing {} key(s) of group '{}' failed ({}); they are retried once their"
            + " claims expire", fresh.size(), group, e.toString());
      }
    }
  }
}
