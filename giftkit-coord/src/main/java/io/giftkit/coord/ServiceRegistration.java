package io.giftkit.coord;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance registered by {@link ServiceRegistry#register}: its key lives under a lease this
 * process keeps alive, so it vanishes from etcd when the process dies (at most the lease TTL after its
 * last renewal). If the lease is lost while the process lives (etcd unreachable or this process paused
 * past the TTL, or the lease revoked), the instance is registered again under a new lease as soon as
 * etcd answers, retried every third of the TTL; {@link #reRegistrations()} counts that.
 * {@link #close()} deregisters it.
 *
 * <p>Thread-safe. {@link #close()} blocks for one etcd round trip, at most the registry's timeout.
 */
public final class ServiceRegistration implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceRegistration.class);

  private final ServiceInstance instance;
  private final String key;
  private final String value;
  private final Client client;
  private final Duration leaseTtl;
  private final Duration timeout;
  private final Ticker ticker;
  private final ScheduledExecutorService scheduler;
  private final Consumer<ServiceRegistration> onClose;
  private final AtomicLong reRegistrations = new AtomicLong();
  // guarded by this
  private LeaseKeeper keeper;
  private boolean closed;

  ServiceRegistration(ServiceInstance instance, String key, Client client, Duration leaseTtl, Duration timeout,
      Ticker ticker, ScheduledExecutorService scheduler, Consumer<ServiceRegistration> onClose) {
    this.instance = instance;
    this.key = key;
    this.value = InstanceCodec.value(instance);
    this.client = client;
    this.leaseTtl = leaseTtl;
    this.timeout = timeout;
    this.ticker = ticker;
    this.scheduler = scheduler;
    this.onClose = onClose;
  }

  /** Grants a lease and writes the key under it; completes when both are done. */
  CompletableFuture<Void> register() {
    long start = ticker.read();
    return client.getLeaseClient().grant(leaseTtl.toSeconds())
        .thenCompose(grant -> {
          LeaseKeeper k = new LeaseKeeper(client.getLeaseClient(), grant.getID(), Duration.ofSeconds(grant.getTTL()),
              start + TimeUnit.SECONDS.toNanos(grant.getTTL()), ticker, this::lost);
          return client.getKVClient().put(Etcd.bytes(key), Etcd.bytes(value),
              PutOption.builder().withLeaseId(grant.getID()).build()).thenApply(put -> k);
        })
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .thenAccept(k -> {
          boolean keep;
          synchronized (this) {
            keep = !closed;
            if (keep) {
              keeper = k;
              k.start(scheduler);
            }
          }
          if (!keep) {
            k.revoke(); // closed meanwhile
          }
        });
  }

  private void lost(String reason) {
    synchronized (this) {
      if (closed) {
        return;
      }
      keeper = null;
    }
    LOG.warn("service instance {} lost its etcd lease ({}); registering it again", key, reason);
    retry(0);
  }

  private void retry(long delayMillis) {
    scheduler.schedule(() -> {
      synchronized (this) {
        if (closed) {
          return;
        }
      }
      register().whenComplete((ok, e) -> {
        if (e == null) {
          reRegistrations.incrementAndGet();
          LOG.info("service instance {} registered again", key);
        } else {
          long next = Math.max(500, leaseTtl.toMillis() / 3);
          LOG.info("service instance {}: registering again failed ({}); retrying in {}ms", key, e.toString(), next);
          retry(next);
        }
      });
    }, delayMillis, TimeUnit.MILLISECONDS);
  }

  /** @return the registered instance */
  public ServiceInstance instance() {
    return instance;
  }

  /** @return its etcd key, {@code <prefix>/services/<service>/<site>/<instanceId>} */
  public String key() {
    return key;
  }

  /**
   * @return whether the instance is registered as far as this process can tell: not closed, and its
   *     lease renewed recently enough that by this process's clock it has not run out
   */
  public boolean isRegistered() {
    LeaseKeeper k;
    synchronized (this) {
      if (closed) {
        return false;
      }
      k = keeper;
    }
    return k != null && k.valid();
  }

  /** @return how many times the instance was registered again after losing its lease */
  public long reRegistrations() {
    return reRegistrations.get();
  }

  /**
   * Deregisters: stops renewing and revokes the lease, which deletes the key. Does nothing the second
   * time. Never throws: if etcd does not answer within the timeout, this is logged and the key goes
   * when the lease runs out.
   */
  @Override
  public void close() {
    LeaseKeeper k;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      k = keeper;
      keeper = null;
    }
    onClose.accept(this);
    if (k == null) {
      return;
    }
    k.stop();
    try {
      Etcd.await(k.revokeAsync(), timeout, "deregistering service instance " + key);
    } catch (RuntimeException e) {
      LOG.warn("service instance {}: deregistering failed, the key goes with its lease: {}", key, e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "ServiceRegistration[" + key + (isRegistered() ? ", registered]" : ", not registered]");
  }
}
