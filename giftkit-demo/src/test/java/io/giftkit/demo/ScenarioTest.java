package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.demo.scenario.Scenario;
import io.giftkit.demo.scenario.ScenarioReport;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A 30-second scenario on the embedded default (its own H2 databases) with Redis: faults injected
 * mid-run, and the report meets the thresholds — the ledger reconciles exactly, panels answered
 * 99.99%+, one alert per disagreement injected (a charge reported for a FAILED order), every poison event dead-lettered.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class ScenarioTest {

  static final String RUN = Long.toHexString(System.nanoTime());

  @DynamicPropertySource
  static void services(DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
    r.add("spring.datasource.url", () -> "jdbc:h2:mem:scenario_control_" + RUN + ";MODE=MySQL;DB_CLOSE_DELAY=-1");
    for (int s = 0; s < 10; s++) {
      int shard = s;
      r.add("giftkit.shard.nodes[" + s + "].primary.url",
          () -> "jdbc:h2:mem:scenario_shard" + shard + "_" + RUN + ";MODE=MySQL;DB_CLOSE_DELAY=-1");
    }
    DemoTestKafka.isolate(r, "scenario-gifts-" + RUN);
    r.add("giftkit.cache.caches.rooms.l2-ttl", () -> "5s"); // Redis keys of this run expire soon after it
  }

  @LocalServerPort int port;
  @Autowired Scenario scenario;

  @Test
  void aShortScenarioWithFaultsMeetsTheThresholds() throws Exception {
    ScenarioReport report = scenario.run(port, Duration.ofSeconds(30));
    System.out.println(report.render());
    assertThat(report.failures()).isEmpty();
    assertThat(report.reconciles()).isTrue();
    assertThat(report.availability()).isGreaterThanOrEqualTo(0.9999);
    assertThat(report.ordersCreated()).isGreaterThan(100);
    assertThat(report.chargedThenFailed()).as("the faults did happen").isPositive();
    assertThat(report.disagreementsInjected()).as("declined orders were FAILED, and charges were injected on them").isPositive();
    assertThat(report.panelBySource()).containsKeys("FRESH").containsAnyOf(
        java.util.Map.entry("CACHED", report.panelBySource().getOrDefault("CACHED", -1L)),
        java.util.Map.entry("DEFAULT", report.panelBySource().getOrDefault("DEFAULT", -1L)));
    assertThat(report.duplicatesSuppressed()).isGreaterThanOrEqualTo(1);
    assertThat(report.deadLettered()).isEqualTo(5);
    assertThat(report.unresolvedOrders()).isZero();
    assertThat(report.otherAlerts()).isZero();
  }
}
