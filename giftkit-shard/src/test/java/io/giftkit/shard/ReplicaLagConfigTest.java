package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.InvalidConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad lag-check and read-your-writes settings fail at once, naming the setting and the value. */
class ReplicaLagConfigTest {

  static ShardDataSources.Builder closedPort() {
    return ShardDataSources.builder().primary(0, "jdbc:mariadb://127.0.0.1:1/x", "app", "pw");
  }

  @Test
  void lagChecksAreOffByDefaultAndBadBoundsAreNamed() {
    try (ShardDataSources nodes = closedPort().build()) {
      assertThat(nodes.maxReplicaLag()).isEmpty();
      assertThat(nodes.replicaLag(0, 0)).isEmpty();
      assertThat(nodes.replicaLagFallbacks()).isZero();
    }
    assertThatThrownBy(() -> closedPort().maxReplicaLag(Duration.ofMillis(5)))
        .isInstanceOf(InvalidConfigException.class).hasMessage("maxReplicaLag must be in [10ms, 1h], but was 5ms");
    assertThatThrownBy(() -> closedPort().maxReplicaLag(Duration.ofHours(2)))
        .hasMessage("maxReplicaLag must be in [10ms, 1h], but was 2h");
    assertThatThrownBy(() -> closedPort().lagCheck(Duration.ofMillis(1)))
        .hasMessage("lagCheck must be at least 5ms, but was 1ms");
    assertThatThrownBy(() -> closedPort().lagCheck(Duration.ofMillis(100)).build())
        .hasMessage("lagCheck needs maxReplicaLag (lag checks are off without it), but was 100ms");
    assertThatThrownBy(() -> closedPort().maxReplicaLag(Duration.ofSeconds(1)).lagCheck(Duration.ofMillis(600)).build())
        .hasMessage("lagCheck must be at most half of maxReplicaLag (1000ms), but was 600ms");
    assertThatThrownBy(() -> closedPort().heartbeatTable("beat; DROP TABLE x"))
        .hasMessageStartingWith("heartbeatTable must be letters, digits and '_', 1 to 64 characters, but was");
    assertThatThrownBy(() -> closedPort().build().replicaLag(0, 3)).hasMessage("node must be in [0, 0], but was 3");
  }

  @Test
  void readYourWritesIsOffByDefaultAndBadSettingsAreNamed() {
    try (ShardDataSources nodes = closedPort().build()) {
      ShardedJdbc orders = new ShardedJdbc(ShardRouter.builder("gift_order").shards(1).build(), nodes);
      assertThat(orders.readYourWritesWindow()).isEqualTo(Duration.ZERO);
      assertThatThrownBy(() -> orders.readYourWrites(Duration.ZERO))
          .hasMessage("readYourWrites must be positive, but was 0ms");
      assertThatThrownBy(() -> orders.readYourWrites(Duration.ofHours(2)))
          .hasMessage("readYourWrites must be at most 1h, but was 2h");
      assertThatThrownBy(() -> orders.readYourWrites(Duration.ofSeconds(1), 1000))
          .hasMessage("readYourWritesSlots must be a power of two in [16, 16777216], but was 1000");
      assertThat(orders.readYourWrites(Duration.ofSeconds(1), 16).readYourWritesWindow()).isEqualTo(Duration.ofSeconds(1));
    }
  }
}
