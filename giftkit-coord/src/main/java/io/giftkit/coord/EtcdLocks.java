package io.giftkit.coord;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.lock.LockResponse;
import io.giftkit.core.Checks;
import io.giftkit.core.GiftkitException;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Locks on etcd, each held through an etcd lease that this process keeps alive, and each with a
 * fencing token:
 *
 * <pre>{@code
 * EtcdLocks locks = EtcdLocks.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
 * Optional<EtcdLock> held = locks.tryLock("settlement:2026-12", Duration.ofSeconds(2));
 * if (held.isPresent()) {
 *   try (EtcdLock lock = held.get().whenLost((l, why) -> stopWork())) {
 *     FencedWrite.update(connection, "settlement", "fence", "total = ?", "month = ?", lock, total, month);
 *   }
 * }
 * }</pre>
 *
 * <p>Acquiring grants a lease of {@code leaseTtl}, starts renewing it every third of the TTL, and
 * calls etcd's lock service ({@code v3lock}) with it: etcd creates the key {@code prefix + name + "/" +
 * leaseId} attached to the lease and answers once every key of the same name created before it is
 * gone. The fencing token is that key's create revision. The lease ends by {@link EtcdLock#close()}
 * (revoked), by expiry (this process paused or cut off from etcd longer than the TTL), or by revocation
 * from elsewhere; etcd then deletes the key and the next contender gets the lock.
 *
 * <p><b>What it guarantees</b> (see the module README for the tests): at any moment at most one
 * holder's key is first in line, so two holders whose leases are both valid never overlap as far as
 * etcd can tell; tokens strictly increase from one holder to the next; a holder whose lease is lost is
 * told (listener, {@link EtcdLock#isHeld()}) as soon as its keep-alive hears it, or when its own clock
 * says the last renewal has run out. <b>What it does not:</b> a holder paused past its TTL keeps running
 * code after resuming, before it notices, while a new holder already works; only a resource that
 * checks the fencing token ({@link FencedWrite}) refuses the old holder's writes.
 *
 * <p>Thread-safe. {@code tryLock} and {@code lock} block; one daemon thread renews the leases.
 * {@link #close()} releases the locks still held and stops that thread; the {@link Client} stays the
 * caller's.
 */
public final class EtcdLocks implements AutoCloseable {

  /** Default key prefix: {@value}. */
  public static final String DEFAULT_KEY_PREFIX = "giftkit/lock/";
  /** Default lease TTL: 10 s. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(10);
  /** Default budget for one etcd round trip (grant, read, release): 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Client client;
  private final String keyPrefix;
  private final Duration leaseTtl;
  private final Duration timeout;
  private final Ticker ticker;
  private final ScheduledExecutorService scheduler;
  private final Set<EtcdLock> held = ConcurrentHashMap.newKeySet();
  private final LongAdder acquisitions = new LongAdder();
  private final LongAdder acquireWaitNanos = new LongAdder();
  private final LongAdder holds = new LongAdder();
  private final LongAdder holdNanos = new LongAdder();
  private final LongAdder lostLocks = new LongAdder();

  private EtcdLocks(Builder b) {
    this.client = b.client;
    this.keyPrefix = b.keyPrefix;
    this.leaseTtl = b.leaseTtl;
    this.timeout = b.timeout;
    this.ticker = b.ticker;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-etcd-lease-keeper");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * @param client the jetcd client; the caller keeps owning it
   * @return a builder with the defaults
   */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /**
   * Takes the lock, waiting up to {@code wait} (the round trips included) for the holders before.
   *
   * @param name the lock's name; not blank
   * @param wait how long to wait; positive
   * @return the held lock, or empty if it was not granted in time (the waiting key is then removed)
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   * @throws GiftkitException if etcd fails or does not answer a single round trip within the timeout
   */
  public Optional<EtcdLock> tryLock(String name, Duration wait) {
    Checks.requireNonBlank("name", name);
    Checks.requirePositive("wait", wait);
    return acquire(name, wait);
  }

  /**
   * Takes the lock, waiting as long as it takes (interruptible).
   *
   * @param name the lock's name; not blank
   * @return the held lock
   * @throws GiftkitException if etcd fails, or the thread is interrupted (its flag set again)
   */
  public EtcdLock lock(String name) {
    Checks.requireNonBlank("name", name);
    return acquire(name, null).orElseThrow();
  }

  private Optional<EtcdLock> acquire(String name, Duration wait) {
    long start = ticker.read();
    String what = "etcd lock '" + name + "'";
    LeaseGrantResponse grant = Etcd.await(client.getLeaseClient().grant(leaseTtl.toSeconds()), timeout,
        "granting the lease of " + what);
    AtomicReference<EtcdLock> holder = new AtomicReference<>();
    CompletableFuture<LockResponse> granted = new CompletableFuture<>();
    AtomicReference<String> lostWhileWaiting = new AtomicReference<>();
    LeaseKeeper keeper = new LeaseKeeper(client.getLeaseClient(), grant.getID(), Duration.ofSeconds(grant.getTTL()),
        start + TimeUnit.SECONDS.toNanos(grant.getTTL()), ticker, reason -> {
          EtcdLock lock = holder.get();
          if (lock != null) {
            if (ended(lock)) {
              lostLocks.increment();
            }
            lock.lost(reason);
          } else {
            lostWhileWaiting.set(reason);
            granted.cancel(false); // still waiting: stop, the lease that would hold the lock is gone
          }
        });
    keeper.start(scheduler);
    client.getLockClient().lock(Etcd.bytes(keyPrefix + name), grant.getID()).whenComplete((r, e) -> {
      if (e != null) {
        granted.completeExceptionally(e);
      } else {
        granted.complete(r);
      }
    });
    LockResponse response;
    try {
      response = wait == null ? granted.get()
          : granted.get(Math.max(0, wait.toNanos() - (ticker.read() - start)), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      abandon(granted, keeper);
      return Optional.empty();
    } catch (CancellationException e) {
      abandon(granted, keeper);
      throw new GiftkitException(what + ": gave up waiting for the lock: " + lostWhileWaiting.get());
    } catch (ExecutionException e) {
      abandon(granted, keeper);
      throw new GiftkitException(what + ": etcd refused the lock: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(granted, keeper);
      throw new GiftkitException(what + ": interrupted while waiting for the lock", e);
    }
    GetResponse key;
    try {
      key = Etcd.await(client.getKVClient().get(response.getKey()), timeout, "reading the key of " + what);
    } catch (RuntimeException e) {
      abandon(granted, keeper);
      throw e;
    }
    if (key.getKvs().isEmpty() || !keeper.valid()) {
      abandon(granted, keeper);
      throw new GiftkitException(what + ": the lease ran out while the lock was being granted");
    }
    long acquiredAt = ticker.read();
    EtcdLock lock = new EtcdLock(name, Etcd.text(response.getKey()), key.getKvs().get(0).getCreateRevision(),
        keeper, timeout, acquiredAt, this::ended);
    held.add(lock);
    acquisitions.increment();
    acquireWaitNanos.add(acquiredAt - start);
    holder.set(lock);
    if (!keeper.valid()) { // lost between the check above and holder.set: the keeper told nobody
      if (ended(lock)) {
        lostLocks.increment();
      }
      lock.lost("lease " + Long.toHexString(keeper.leaseId()) + " ran out just as the lock was granted");
    }
    return Optional.of(lock);
  }

  /** Takes a lock out of the held ones once (released or lost) and adds its hold time; false if it was out. */
  private boolean ended(EtcdLock lock) {
    if (!held.remove(lock)) {
      return false;
    }
    holds.increment();
    holdNanos.add(ticker.read() - lock.acquiredAt());
    return true;
  }

  /**
   * The locks held through this instance now, in no particular order (a snapshot; for the Actuator
   * endpoint and health). A lock leaves it when released or when its loss is noticed.
   *
   * @return the held locks
   */
  public List<EtcdLock> held() {
    return List.copyOf(held);
  }

  /** @return how many locks were granted so far (for metrics: the count of {@link #acquireWaitTime()}) */
  public long acquisitions() {
    return acquisitions.sum();
  }

  /**
   * @return the time the granted acquisitions took in total, from the call to the grant (round trips
   *     and the wait for earlier holders; calls that gave up or failed are not counted)
   */
  public Duration acquireWaitTime() {
    return Duration.ofNanos(acquireWaitNanos.sum());
  }

  /** @return how many holds ended so far, released or lost (the count of {@link #holdTime()}) */
  public long holds() {
    return holds.sum();
  }

  /** @return the time the ended holds lasted in total, from the grant to the release or the noticed loss */
  public Duration holdTime() {
    return Duration.ofNanos(holdNanos.sum());
  }

  /** @return how many held locks were lost so far (lease expired, revoked, or not renewed in time) */
  public long lostLocks() {
    return lostLocks.sum();
  }

  private static void abandon(CompletableFuture<?> request, LeaseKeeper keeper) {
    request.cancel(true);
    keeper.stop();
    keeper.revoke();
  }

  /** Releases every lock still held through this instance and stops renewing leases. */
  @Override
  public void close() {
    for (EtcdLock lock : held) {
      lock.close();
    }
    held.clear();
    scheduler.shutdownNow();
  }

  /** Builds {@link EtcdLocks}; not thread-safe. */
  public static final class Builder {
    private final Client client;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Ticker ticker = Ticker.system();

    private Builder(Client client) {
      this.client = Checks.requireNonNull("client", client);
    }

    /**
     * @param keyPrefix prepended to every lock name in etcd; default {@value #DEFAULT_KEY_PREFIX}
     * @return this builder
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = Checks.requireNonNull("keyPrefix", keyPrefix);
      return this;
    }

    /**
     * @param leaseTtl how long a holder's lease lasts without renewal: whole seconds, at least 2 s (etcd
     *     raises shorter TTLs to its minimum); default 10 s. Renewed every third of it.
     * @return this builder
     */
    public Builder leaseTtl(Duration leaseTtl) {
      this.leaseTtl = Leases.requireTtl("leaseTtl", leaseTtl);
      return this;
    }

    /**
     * @param timeout the budget for one etcd round trip (grant, read, release); default 5 s
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Checks.requirePositive("timeout", timeout);
      return this;
    }

    /**
     * @param ticker the clock that times leases; default {@link Ticker#system()}
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /** @return the locks */
    public EtcdLocks build() {
      return new EtcdLocks(this);
    }
  }
}
