package io.giftkit.cache;

import io.giftkit.core.Checks;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A lease-based lock on one Redis key, for "only one instance refreshes this hot key" and
 * idempotency guards:
 *
 * <pre>{@code
 * RedisLock locks = new RedisLock(connection, "gk:lock:");
 * Optional<RedisLock.Lease> lease = locks.tryAcquire("room:42:refresh", Duration.ofSeconds(10));
 * if (lease.isPresent()) {
 *   try (RedisLock.Lease l = lease.get()) {
 *     refresh();                 // call l.renew(...) if it may outlast the lease
 *   }                            // released only if still ours
 * }
 * }</pre>
 *
 * <p>Acquire is {@code SET key token NX PX lease}, with a random owner token; release and renewal
 * are Lua scripts that act only if the key still holds this owner's token, so an owner whose lease
 * expired can never release or extend another owner's lock.
 *
 * <p><b>Limits.</b> This is not a fencing-token lock: if the owner pauses (GC, network) past its
 * lease, another instance may acquire the lock while the first still believes it holds it. Use it
 * where a rare double execution is tolerable (a duplicate cache refresh), and keep correctness in the
 * database (unique keys) where it is not. It relies on a single Redis primary: a failover that loses
 * the key can let two owners in.
 *
 * <p>Thread-safe (Lettuce connections are). Every method blocks for one Redis round trip.
 */
public final class RedisLock {

  private static final String RELEASE =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
  private static final String RENEW =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

  private final RedisClusterCommands<String, String> redis;
  private final String prefix;

  /**
   * Creates a lock factory.
   *
   * @param connection a string connection; the caller keeps owning it
   * @param keyPrefix prepended to every lock name (e.g. {@code "gk:lock:"})
   */
  public RedisLock(StatefulRedisConnection<String, String> connection, String keyPrefix) {
    this.redis = Checks.requireNonNull("connection", connection).sync();
    this.prefix = Checks.requireNonNull("keyPrefix", keyPrefix);
  }

  /**
   * Creates a lock factory on a Redis Cluster (each lock's commands go to the master of its key's
   * slot; the same single-primary limit applies per slot).
   *
   * @param connection a string cluster connection; the caller keeps owning it
   * @param keyPrefix prepended to every lock name (e.g. {@code "gk:lock:"})
   */
  public RedisLock(StatefulRedisClusterConnection<String, String> connection, String keyPrefix) {
    this.redis = Checks.requireNonNull("connection", connection).sync();
    this.prefix = Checks.requireNonNull("keyPrefix", keyPrefix);
  }

  /**
   * Takes the lock if it is free.
   *
   * @param name the lock's name; not blank
   * @param lease how long the lock holds without renewal; at least 1 ms
   * @return the lease, or empty if another owner holds the lock
   */
  public Optional<Lease> tryAcquire(String name, Duration lease) {
    Checks.requireNonBlank("name", name);
    Checks.requirePositive("lease", lease);
    if (lease.toMillis() < 1) {
      throw Checks.invalid("lease", "must be at least 1ms", lease);
    }
    String key = prefix + name;
    String token = UUID.randomUUID().toString();
    String ok = redis.set(key, token, SetArgs.Builder.nx().px(lease.toMillis()));
    return "OK".equals(ok) ? Optional.of(new Lease(key, token)) : Optional.empty();
  }

  /** A held lock. Closing it releases it if it is still held by this owner. */
  public final class Lease implements AutoCloseable {
    private final String key;
    private final String token;

    private Lease(String key, String token) {
      this.key = key;
      this.token = token;
    }

    /**
     * Extends the lease, if this owner still holds the lock.
     *
     * @param lease the new lease from now; at least 1 ms
     * @return whether it was extended (false: the lease had expired and someone else may hold it)
     */
    public boolean renew(Duration lease) {
      Checks.requirePositive("lease", lease);
      Long r = redis.eval(RENEW, ScriptOutputType.INTEGER, new String[] {key}, token, Long.toString(lease.toMillis()));
      return r != null && r == 1L;
    }

    /**
     * Releases the lock if this owner still holds it.
     *
     * @return whether it was released (false: it had expired, and may be someone else's now)
     */
    public boolean release() {
      Long r = redis.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, token);
      return r != null && r == 1L;
    }

    @Override
    public void close() {
      release();
    }

    /** @return the Redis key of the lock */
    public String key() {
      return key;
    }

    @Override
    public String toString() {
      return "Lease{" + key + "}"; // the token is a secret of its owner
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof RedisLock.Lease && ((RedisLock.Lease) o).token.equals(token);
    }

    @Override
    public int hashCode() {
      return Objects.hash(token);
    }
  }
}
