package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import io.giftkit.core.Listeners;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The routing rule of lag checks, on a fake ticker: a sample ages, so a replica measured within the
 * bound stops being used once "lag at the sample + time since" passes the bound, even if no new
 * sample comes (a stalled sampler); an unknown lag is never within the bound.
 */
class ReplicaLagAgingTest {

  @Test
  void aSampleAgesAndUnknownIsTooFarBehind() {
    AtomicLong time = new AtomicLong(-1_000_000); // System.nanoTime() may be negative
    Duration max = Duration.ofSeconds(1);
    ReplicaLag lag = new ReplicaLag(null, new ShardNode[0][], time::get, max, Duration.ofMillis(250),
        Duration.ofSeconds(5), ShardDataSources.DEFAULT_HEARTBEAT_TABLE, Listeners.create("test"));
    ShardNode replica = new ShardNode(0, 1, "jdbc:mariadb://127.0.0.1:1/x", "app", null, new HikariConfig());
    long t0 = time.get();

    assertThat(lag.usable(replica, t0)).as("never measured").isFalse();

    replica.lag = new ReplicaLag.Sample(Duration.ofMillis(300).toNanos(), t0);
    assertThat(lag.usable(replica, t0)).isTrue();
    assertThat(lag.usable(replica, t0 + Duration.ofMillis(700).toNanos())).as("300 ms + 700 ms = the bound").isTrue();
    assertThat(lag.usable(replica, t0 + Duration.ofMillis(700).toNanos() + 1)).as("past it, with no new sample")
        .isFalse();

    replica.lag = new ReplicaLag.Sample(max.toNanos() + 1, t0);
    assertThat(lag.usable(replica, t0)).as("measured over the bound").isFalse();

    replica.lag = new ReplicaLag.Sample(ReplicaLag.UNKNOWN, t0);
    assertThat(lag.usable(replica, t0)).as("unknown").isFalse();
    assertThat(lag.lagOf(replica)).isNull();
  }
}
