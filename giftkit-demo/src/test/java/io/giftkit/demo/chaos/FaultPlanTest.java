package io.giftkit.demo.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FaultPlanTest {

  @Test
  void everySeedPlansAllSixFaultsInOrderInsideTheRun() {
    for (long seed = 0; seed < 500; seed++) {
      for (int seconds : new int[] {30, 60, 120, 600}) {
        List<FaultPlan.Planned> plan = FaultPlan.draw(seed, seconds);
        assertThat(plan).extracting(FaultPlan.Planned::kind).containsExactlyInAnyOrder(FaultPlan.Kind.KAFKA_KILL,
            FaultPlan.Kind.SHARD9_KILL, FaultPlan.Kind.APP_KILL, FaultPlan.Kind.APP_KILL, FaultPlan.Kind.REDIS_STOP,
            FaultPlan.Kind.REDIS_KILL);
        List<FaultPlan.Kind> kinds = plan.stream().map(FaultPlan.Planned::kind).toList();
        assertThat(kinds.indexOf(FaultPlan.Kind.REDIS_STOP)).isLessThan(kinds.indexOf(FaultPlan.Kind.REDIS_KILL));
        assertThat(plan.stream().filter(p -> p.kind() == FaultPlan.Kind.APP_KILL).map(FaultPlan.Planned::instance))
            .containsExactlyInAnyOrder(0, 1);
        for (int i = 0; i < plan.size(); i++) {
          FaultPlan.Planned p = plan.get(i);
          assertThat(p.downSeconds()).isBetween(2.0, 10.0);
          assertThat(p.startSecond() + p.downSeconds()).isLessThan(seconds * 0.85);
          if (i > 0) {
            FaultPlan.Planned before = plan.get(i - 1);
            assertThat(p.startSecond()).as("seed %d, %d s", seed, seconds)
                .isGreaterThanOrEqualTo(before.startSecond() + before.downSeconds());
          }
        }
      }
    }
  }

  @Test
  void theSameSeedDrawsTheSamePlan() {
    assertThat(FaultPlan.draw(42, 120)).isEqualTo(FaultPlan.draw(42, 120));
    assertThat(FaultPlan.draw(42, 120)).isNotEqualTo(FaultPlan.draw(43, 120));
  }
}
