package io.giftkit.coord;

import io.etcd.jetcd.Lease;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one etcd lease alive and knows, from this process's clock, until when it is surely still
 * valid. Every {@code ttl / 3} it sends one keep-alive ({@code keepAliveOnce}) and notes when it was
 * sent; an answer with a positive TTL extends the validity to that send time plus the TTL (etcd
 * starts the new TTL when it receives the request, which is after it was sent). An answer with TTL 0
 * (the lease expired or was revoked; jetcd reports it as a {@code NOT_FOUND} error) or reaching the
 * validity's end without a renewal (etcd unreachable, this process paused) is a loss: reported
 * once, the lease revoked best-effort, nothing more sent.
 *
 * <p>Thread-safe: the state is guarded by {@code this}; the loss is reported outside the lock.
 */
final class LeaseKeeper {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);

  private final Lease leases;
  private final long leaseId;
  private final long ttlNanos;
  private final Ticker ticker;
  private final Consumer<String> onLost;
  private long validUntil;
  private boolean done;
  private ScheduledFuture<?> task;

  /**
   * @param validUntil the ticker reading the lease is valid until already (taken before the grant was sent)
   * @param onLost told why, at most once
   */
  LeaseKeeper(Lease leases, long leaseId, Duration ttl, long validUntil, Ticker ticker, Consumer<String> onLost) {
    this.leases = leases;
    this.leaseId = leaseId;
    this.ttlNanos = ttl.toNanos();
    this.validUntil = validUntil;
    this.ticker = ticker;
    this.onLost = onLost;
  }

  synchronized void start(ScheduledExecutorService scheduler) {
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), ttlNanos / 3);
    task = scheduler.scheduleAtFixedRate(this::tick, period, period, TimeUnit.NANOSECONDS);
  }

  long leaseId() {
    return leaseId;
  }

  /** @return whether the lease is surely still valid: not lost, not stopped, within its renewed TTL */
  synchronized boolean valid() {
    return !done && ticker.read() - validUntil < 0;
  }

  private void tick() {
    long sentAt;
    synchronized (this) {
      if (done) {
        return;
      }
      sentAt = ticker.read();
      if (sentAt - validUntil >= 0) {
        // fall through to the loss below, outside the lock
        sentAt = Long.MIN_VALUE;
      }
    }
    if (sentAt == Long.MIN_VALUE) {
      lost("lease " + Long.toHexString(leaseId) + " was not renewed within its TTL of "
          + Duration.ofNanos(ttlNanos).toMillis() + "ms (etcd unreachable or this process paused)");
      return;
    }
    long sent = sentAt;
    leases.keepAliveOnce(leaseId).whenComplete((response, error) -> {
      Throwable cause = error instanceof CompletionException && error.getCause() != null
          ? error.getCause() : error;
      if (cause instanceof EtcdException e && e.getErrorCode() == ErrorCode.NOT_FOUND) {
        // jetcd's keepAliveOnce turns etcd's "TTL 0" answer into this
        lost("lease " + Long.toHexString(leaseId) + " expired or was revoked (etcd: " + e.getMessage() + ")");
      } else if (error != null) {
        LOG.debug("keep-alive of lease {} failed; retrying on the next tick", Long.toHexString(leaseId), error);
      } else if (response.getTTL() <= 0) {
        lost("lease " + Long.toHexString(leaseId) + " expired or was revoked (etcd answered TTL "
            + response.getTTL() + ")");
      } else {
        renewed(sent, response.getTTL());
      }
    });
  }

  private synchronized void renewed(long sentAt, long ttlSeconds) {
    long until = sentAt + TimeUnit.SECONDS.toNanos(ttlSeconds);
    if (!done && until - validUntil > 0) {
      validUntil = until;
    }
  }

  private void lost(String reason) {
    if (!stop()) {
      return;
    }
    revoke();
    onLost.accept(reason);
  }

  /** Stops renewing. @return whether this call stopped it (false: it was stopped already) */
  synchronized boolean stop() {
    if (done) {
      return false;
    }
    done = true;
    if (task != null) {
      task.cancel(false);
    }
    return true;
  }

  /** Revokes the lease; etcd then deletes the keys attached to it. */
  CompletableFuture<?> revokeAsync() {
    return leases.revoke(leaseId);
  }

  /** Revokes the lease without waiting; etcd then deletes the keys attached to it. */
  void revoke() {
    leases.revoke(leaseId).whenComplete((r, e) -> {
      if (e != null) {
        LOG.debug("revoking lease {} failed; it expires by its TTL", Long.toHexString(leaseId), e);
      }
    });
  }
}
