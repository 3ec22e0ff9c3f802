package io.giftkit.shard;

import io.giftkit.core.Site;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the node of a WEAK read: a healthy replica of the local site, else of another site, else
 * the primary. With lag checks ({@link ReplicaLag}), a replica over the bound is skipped; when every
 * healthy replica is, the read goes to the primary (counted) and, only if the primary cannot serve it
 * (down, or fenced for a split brain), to a healthy replica whatever its lag (counted, a WARN the
 * first time per replica), so WEAK reads stay available through a primary outage.
 */
final class WeakReads {

  private static final Logger LOG = LoggerFactory.getLogger(WeakReads.class);

  /** The STRONG path of {@link ShardDataSources}. */
  @FunctionalInterface
  interface Strong {
    Connection connect(int shard);
  }

  private final ShardNode[][] nodes;
  private final Site localSite;
  private final Ticker ticker;
  private final long replicaRetryAfterNanos;
  private final ReplicaLag lag; // null: lag checks off
  private final Strong strong;
  private final LongAdder lagFallbacks = new LongAdder();
  private final LongAdder staleReads = new LongAdder();

  WeakReads(ShardNode[][] nodes, Site localSite, Ticker ticker, long replicaRetryAfterNanos, ReplicaLag lag,
      Strong strong) {
    this.nodes = nodes;
    this.localSite = localSite;
    this.ticker = ticker;
    this.replicaRetryAfterNanos = replicaRetryAfterNanos;
    this.lag = lag;
    this.strong = strong;
  }

  Connection connection(int shard, int writer) {
    ShardNode[] candidates = nodes[shard];
    long now = ticker.read();
    boolean skippedForLag = false;
    for (int pass = 0; pass < 2; pass++) { // local site first, then any site
      for (int i = 0; i < candidates.length; i++) {
        ShardNode r = candidates[i];
        if (i == writer || (pass == 0) != local(r) || now - r.unhealthyUntil < 0) {
          continue;
        }
        if (lag != null && !lag.usable(r, now)) {
          skippedForLag = true;
          continue;
        }
        Connection c = tryReplica(r);
        if (c != null) {
          return c;
        }
      }
    }
    if (!skippedForLag) {
      return strong.connect(shard);
    }
    lagFallbacks.increment();
    try {
      return strong.connect(shard);
    } catch (ShardUnavailableException primaryFailed) {
      // stale beats nothing for a WEAK read: the replicas skipped for lag, healthy ones only
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < candidates.length; i++) {
          ShardNode r = candidates[i];
          if (i == writer || (pass == 0) != local(r) || ticker.read() - r.unhealthyUntil < 0) {
            continue;
          }
          Connection c = tryReplica(r);
          if (c != null) {
            staleReads.increment();
            if (!r.staleWarned) {
              r.staleWarned = true;
              LOG.warn("GiftKit: {} serves WEAK reads over maxReplicaLag because the shard's primary cannot ({});"
                  + " counted in staleReplicaReads, logged once", r.describe("replica"), primaryFailed.getMessage());
            }
            return c;
          }
        }
      }
      throw primaryFailed;
    }
  }

  private boolean local(ShardNode r) {
    return localSite == null || localSite.equals(r.site);
  }

  private Connection tryReplica(ShardNode r) {
    try {
      return r.pool().getConnection();
    } catch (SQLException e) {
      r.unhealthyUntil = ticker.read() + replicaRetryAfterNanos;
      LOG.warn("GiftKit: {} failed ({}); weak reads skip it for a while", r.describe("replica"), e.getMessage());
      return null;
    }
  }

  long lagFallbacks() {
    return lagFallbacks.sum();
  }

  long staleReads() {
    return staleReads.sum();
  }
}
