package io.giftkit.boot.shard;

import io.giftkit.shard.ShardDataSources;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code giftkit.shard.replica.lag} (seconds, tags {@code shard}, {@code node}): one row per replica
 * whose lag has been measured, refreshed every second (with lag checks on). A node that is the
 * primary now, or whose lag is unknown (not measured yet, or its last check failed), has no row:
 * absence is a missing series, never {@code NaN}.
 */
final class ReplicaLagMetrics implements MeterBinder, AutoCloseable {

  private final ShardDataSources nodes;
  private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "giftkit-shard-lag-metrics");
    t.setDaemon(true);
    return t;
  });
  private volatile MultiGauge lag;

  ReplicaLagMetrics(ShardDataSources nodes) {
    this.nodes = nodes;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    if (nodes.maxReplicaLag().isEmpty()) {
      return;
    }
    lag = MultiGauge.builder("giftkit.shard.replica.lag").baseUnit("seconds")
        .description("a replica's last measured lag (an upper bound); no row while unknown or for the primary")
        .register(registry);
    refresh();
    refresher.scheduleWithFixedDelay(this::refresh, 1, 1, TimeUnit.SECONDS);
  }

  /** One row per replica with a measured lag, as of now. */
  void refresh() {
    MultiGauge gauge = lag;
    if (gauge == null) {
      return;
    }
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (ShardDataSources.NodeStatus n : nodes.nodes()) {
      nodes.replicaLag(n.shard(), n.node()).ifPresent(d -> rows.add(MultiGauge.Row.of(
          Tags.of("shard", Integer.toString(n.shard()), "node", Integer.toString(n.node())), d.toNanos() / 1e9)));
    }
    gauge.register(rows, true);
  }

  @Override
  public void close() {
    refresher.shutdownNow();
  }
}
