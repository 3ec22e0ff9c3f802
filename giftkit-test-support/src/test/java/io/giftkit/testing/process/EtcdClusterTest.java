package io.giftkit.testing.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdClusterTest {

  private static final Duration START = Duration.ofSeconds(30);

  @TempDir Path dir;

  /** Three real members: a leader; killing it elects another; the killed one rejoins on its data; nothing survives close. */
  @Test
  void threeMembersElectALeaderSurviveItsDeathAndLeaveNothingBehind() throws Exception {
    ProcessRegistry registry = new ProcessRegistry();
    try (EtcdCluster etcd = new EtcdCluster(registry, dir, 3)) {
      etcd.start(START);
      assertThat(etcd.clientUrls()).hasSize(3).allMatch(u -> u.startsWith("http://127.0.0.1:"));
      await().atMost(START).until(() -> etcd.leader() >= 0);
      int leader = etcd.leader();

      etcd.member(leader).kill();
      assertThat(etcd.member(leader).isAlive()).isFalse();
      await().atMost(START).until(() -> etcd.leader() >= 0 && etcd.leader() != leader);

      int frozen = (leader + 1) % 3;
      etcd.member(frozen).suspend();
      assertThat(etcd.member(frozen).isSuspended()).isTrue();
      etcd.member(frozen).resume();

      etcd.restart(leader, START);
      for (int i = 0; i < 3; i++) {
        etcd.awaitHealthy(i, START);
      }
    } finally {
      registry.close();
    }
    assertThat(registry.pids()).hasSizeGreaterThanOrEqualTo(4);
    assertThat(registry.survivors()).isEmpty();
  }
}
