package io.giftkit.coord;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.options.GetOption;
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
 * Leader elections on etcd: contenders campaign for a named election, one at a time leads, each
 * leader holds its leadership through an etcd lease this process keeps alive, and every leader gets
 * a token higher than the one before:
 *
 * <pre>{@code
 * EtcdElections elections = EtcdElections.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
 * Leadership lead = elections.campaign("settlement-runner", "node-1:8080");     // blocks until it leads
 * lead.whenLost((l, why) -> stopRunning());
 * ... run, guarding writes with lead.token() ...
 * lead.resign();
 * }</pre>
 *
 * <p>Campaigning grants a lease of {@code leaseTtl}, renews it every third of the TTL
 * ({@link EtcdLocks}' lease keeping) and calls etcd's election service ({@code v3election}) with it:
 * etcd creates the key {@code prefix + name + "/" + leaseId} with the value and answers once every
 * key of that election created before it is gone. The oldest key leads; its create revision is the
 * token. The leadership ends by {@link Leadership#resign()} (the lease revoked), by expiry (this
 * process paused or cut off from etcd past the TTL; its own clock tells it, see {@link EtcdLock}), or by
 * revocation from elsewhere: the listeners of {@link Leadership#whenLost} are told, and etcd deletes the
 * key, so the next contender leads. {@link #observe} follows who leads; {@link #leader} reads it once.
 *
 * <p>Thread-safe. {@code campaign} blocks; one daemon thread renews the leases. {@link #close()}
 * resigns the leaderships still held, stops the observers and that thread; the {@link Client} stays
 * the caller's.
 */
public final class EtcdElections implements AutoCloseable {

  /** Default key prefix: {@value}. */
  public static final String DEFAULT_KEY_PREFIX = "giftkit/election/";
  /** Default lease TTL: 10 s. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(10);
  /** Default budget for one etcd round trip: 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Client client;
  private final String keyPrefix;
  private final Duration leaseTtl;
  private final Duration timeout;
  private final Ticker ticker;
  private final ScheduledExecutorService scheduler;
  private final Set<Leadership> held = ConcurrentHashMap.newKeySet();
  private final LongAdder lostLeaderships = new LongAdder();
  private final Set<KvWatch> observers = ConcurrentHashMap.newKeySet();
  private final KvWatch.Counters watchCounters = new KvWatch.Counters();

  private EtcdElections(Builder b) {
    this.client = b.client;
    this.keyPrefix = b.keyPrefix;
    this.leaseTtl = b.leaseTtl;
    this.timeout = b.timeout;
    this.ticker = b.ticker;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-etcd-election-lease-keeper");
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
   * Campaigns, waiting up to {@code wait} (the round trips included) for the leaders before.
   *
   * @param election the election's name; not blank
   * @param value what this contender is known by while it leads (its address, instance id); not null
   * @param wait how long to wait; positive
   * @return the leadership, or empty if it was not won in time (this contender's key is then removed)
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   * @throws GiftkitException if etcd fails or does not answer a single round trip within the timeout
   */
  public Optional<Leadership> campaign(String election, String value, Duration wait) {
    Checks.requireNonBlank("election", election);
    Checks.requireNonNull("value", value);
    Checks.requirePositive("wait", wait);
    return campaignFor(election, value, wait);
  }

  /**
   * Campaigns, waiting as long as it takes (interruptible).
   *
   * @param election the election's name; not blank
   * @param value what this contender is known by while it leads; not null
   * @return the leadership
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   * @throws GiftkitException if etcd fails, or the thread is interrupted (its flag set again)
   */
  public Leadership campaign(String election, String value) {
    Checks.requireNonBlank("election", election);
    Checks.requireNonNull("value", value);
    return campaignFor(election, value, null).orElseThrow();
  }

  private Optional<Leadership> campaignFor(String election, String value, Duration wait) {
    long start = ticker.read();
    String what = "etcd election '" + election + "'";
    LeaseGrantResponse grant = Etcd.await(client.getLeaseClient().grant(leaseTtl.toSeconds()), timeout,
        "granting the lease of " + what);
    AtomicReference<Leadership> leading = new AtomicReference<>();
    AtomicReference<String> lostWhileWaiting = new AtomicReference<>();
    CompletableFuture<CampaignResponse> won = new CompletableFuture<>();
    LeaseKeeper keeper = new LeaseKeeper(client.getLeaseClient(), grant.getID(), Duration.ofSeconds(grant.getTTL()),
        start + TimeUnit.SECONDS.toNanos(grant.getTTL()), ticker, reason -> {
          Leadership l = leading.get();
          if (l != null) {
            if (held.remove(l)) {
              lostLeaderships.increment();
            }
            l.lost(reason);
          } else {
            lostWhileWaiting.set(reason);
            won.cancel(false);
          }
        });
    keeper.start(scheduler);
    client.getElectionClient().campaign(Etcd.bytes(keyPrefix + election), grant.getID(), Etcd.bytes(value))
        .whenComplete((r, e) -> {
          if (e != null) {
            won.completeExceptionally(e);
          } else {
            won.complete(r);
          }
        });
    LeaderKey leaderKey;
    try {
      leaderKey = (wait == null ? won.get()
          : won.get(Math.max(0, wait.toNanos() - (ticker.read() - start)), TimeUnit.NANOSECONDS)).getLeader();
    } catch (TimeoutException e) {
      abandon(won, keeper);
      return Optional.empty();
    } catch (CancellationException e) {
      abandon(won, keeper);
      throw new GiftkitException(what + ": gave up campaigning: " + lostWhileWaiting.get());
    } catch (ExecutionException e) {
      abandon(won, keeper);
      throw new GiftkitException(what + ": etcd refused the campaign: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(won, keeper);
      throw new GiftkitException(what + ": interrupted while campaigning", e);
    }
    GetResponse key;
    try {
      key = Etcd.await(client.getKVClient().get(leaderKey.getKey()), timeout, "reading the key of " + what);
    } catch (RuntimeException e) {
      abandon(won, keeper);
      throw e;
    }
    // etcd answers a campaign once the older keys are gone, even if this one's lease ran out meanwhile
    if (key.getKvs().isEmpty() || key.getKvs().get(0).getCreateRevision() != leaderKey.getRevision()
        || !keeper.valid()) {
      abandon(won, keeper);
      throw new GiftkitException(what + ": the lease ran out while the leadership was being won");
    }
    Leadership leadership = new Leadership(election, value, Etcd.text(leaderKey.getKey()), leaderKey.getRevision(),
        keeper, timeout, held::remove);
    held.add(leadership);
    leading.set(leadership);
    if (!keeper.valid()) { // lost between the check above and leading.set: the keeper told nobody
      if (held.remove(leadership)) {
        lostLeaderships.increment();
      }
      leadership.lost("lease " + Long.toHexString(keeper.leaseId()) + " ran out just as the leadership was won");
    }
    return Optional.of(leadership);
  }

  private static void abandon(CompletableFuture<?> request, LeaseKeeper keeper) {
    request.cancel(true);
    keeper.stop();
    keeper.revoke();
  }

  /**
   * Reads who leads now (linearizable: the leader etcd knows, through its Raft leader).
   *
   * @param election the election's name; not blank
   * @return the leader, or empty if nobody campaigns
   * @throws io.giftkit.core.GiftkitTimeoutException if etcd does not answer within the timeout
   */
  public Optional<Leader> leader(String election) {
    Checks.requireNonBlank("election", election);
    GetResponse r = Etcd.await(client.getKVClient().get(Etcd.bytes(keyPrefix + election + "/"),
        GetOption.builder().isPrefix(true).withSortField(GetOption.SortTarget.CREATE)
            .withSortOrder(GetOption.SortOrder.ASCEND).withLimit(1).build()), timeout,
        "reading the leader of etcd election '" + election + "'");
    if (r.getKvs().isEmpty()) {
      return Optional.empty();
    }
    KeyValue kv = r.getKvs().get(0);
    return Optional.of(new Leader(election, Etcd.text(kv.getValue()), kv.getCreateRevision(), Etcd.text(kv.getKey())));
  }

  /**
   * Follows who leads: {@code listener} is told the current leader at once (on this thread), then
   * every change, until the returned watch is closed. The watch survives member restarts and
   * compaction (see {@link KvWatch}).
   *
   * @param election the election's name; not blank
   * @param listener hears the leader; must not block
   * @return the running watch; close it to stop
   * @throws io.giftkit.core.GiftkitTimeoutException if etcd does not answer the first read within the timeout
   */
  public KvWatch observe(String election, LeaderListener listener) {
    Checks.requireNonBlank("election", election);
    Checks.requireNonNull("listener", listener);
    LeaderObserver observer = new LeaderObserver(election, keyPrefix, listener);
    KvWatch.Snapshot now = Etcd.await(KvWatch.read(client, keyPrefix, election + "/", true), timeout,
        "reading the contenders of etcd election '" + election + "'");
    observer.reset(now.entries());
    KvWatch watch = KvWatch.start(client, keyPrefix, election + "/", true, now.revision() + 1, observer, timeout,
        watchCounters);
    observers.add(watch);
    return watch;
  }

  /**
   * The leaderships held through this instance now, in no particular order (a snapshot; for the
   * Actuator endpoint and health). One leaves it when resigned or when its loss is noticed.
   *
   * @return the held leaderships
   */
  public List<Leadership> held() {
    return List.copyOf(held);
  }

  /** @return how many held leaderships were lost so far (lease expired, revoked, or not renewed in time) */
  public long lostLeaderships() {
    return lostLeaderships.sum();
  }

  /** @return how many times an observer's watch saw its stream fail or end, in total (for metrics) */
  public long watchErrors() {
    return watchCounters.errors.sum();
  }

  /** @return how many times an observer's watch opened a new stream after one failed, in total */
  public long watchReconnects() {
    return watchCounters.reconnects.sum();
  }

  /** Resigns every leadership still held through this instance, stops the observers and the renewals. */
  @Override
  public void close() {
    for (Leadership l : held) {
      l.resign();
    }
    held.clear();
    for (KvWatch w : observers) {
      w.close();
    }
    observers.clear();
    scheduler.shutdownNow();
  }

  /** Builds {@link EtcdElections}; not thread-safe. */
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
     * @param keyPrefix prepended to every election name in etcd; default {@value #DEFAULT_KEY_PREFIX}
     * @return this builder
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = Checks.requireNonNull("keyPrefix", keyPrefix);
      return this;
    }

    /**
     * @param leaseTtl how long a leader's lease lasts without renewal: whole seconds, at least 2 s;
     *     default 10 s. Renewed every third of it. The next contender leads at most this long after a
     *     leader dies.
     * @return this builder
     */
    public Builder leaseTtl(Duration leaseTtl) {
      this.leaseTtl = Leases.requireTtl("leaseTtl", leaseTtl);
      return this;
    }

    /**
     * @param timeout the budget for one etcd round trip (grant, read, resign); default 5 s
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

    /** @return the elections */
    public EtcdElections build() {
      return new EtcdElections(this);
    }
  }
}
