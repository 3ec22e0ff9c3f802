package io.giftkit.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The end-to-end run's own arithmetic (the run itself is {@code scripts/bench e2e}, never part of the build). */
class E2eRunTest {

  @Test
  void requestsServedCountsTheApiRequestsOfEveryOutcomeAndLeavesOutActuator() {
    String scrape = """
        # HELP http_server_requests_seconds
        http_server_requests_seconds_count{error="none",method="POST",outcome="SUCCESS",status="200",uri="/api/gifts"} 3787
        http_server_requests_seconds_sum{error="none",method="POST",outcome="SUCCESS",status="200",uri="/api/gifts"} 12.5
        http_server_requests_seconds_count{error="none",method="GET",outcome="SUCCESS",status="200",uri="/api/rooms/{roomId}"} 1.0E4
        http_server_requests_seconds_count{error="X",method="POST",outcome="CLIENT_ERROR",status="400",uri="/api/gifts"} 3
        http_server_requests_seconds_count{error="none",method="GET",outcome="SUCCESS",status="200",uri="/actuator/prometheus"} 7
        """;
    assertThat(E2eRun.requestsServed(scrape)).isEqualTo(3787 + 10_000 + 3);
    assertThat(E2eRun.requestsServed("")).isZero();
  }

  private static E2eRun.Side side(String name, int round, double ticks) {
    return new E2eRun.Side(name, round, name + "-r" + round, "", 1, ticks, 0, java.util.Map.of(), 0, 0, 0, 0, "");
  }

  @Test
  void oneRoundGivesTheRatioOfTheTwoSustainableRates() {
    assertThat(E2eRun.ratios(java.util.List.of(side("giftkit", 1, 700), side("baseline", 1, 900))))
        .contains("**0.78×**");
    assertThat(E2eRun.ratios(java.util.List.of(side("giftkit", 1, 700), side("baseline", 1, 0)))).isEmpty();
  }

  @Test
  void severalRoundsGiveTheRatioOfTheMediansAndEachRoundsOwn() {
    String r = E2eRun.ratios(java.util.List.of(side("giftkit", 1, 800), side("baseline", 1, 800),
        side("giftkit", 2, 700), side("baseline", 2, 900), side("giftkit", 3, 900), side("baseline", 3, 1000)));
    assertThat(r).contains("GiftKit 800 ticks/s, bare baseline 900 ticks/s").contains("**0.89×**")
        .contains("round 1: 800 / 800 = 1.00×, round 2: 700 / 900 = 0.78×, round 3: 900 / 1000 = 0.90×");
    String none = E2eRun.ratios(java.util.List.of(side("giftkit", 1, 0), side("baseline", 1, 900),
        side("giftkit", 2, 900), side("baseline", 2, 1100)));
    assertThat(none).contains("round 1: none / 900, no ratio, round 2: 900 / 1100 = 0.82×")
        .contains("a sweep that sustained no rate counts as 0");
    assertThat(r).doesNotContain("counts as 0");
    assertThat(E2eRun.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(E2eRun.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
  }

  @Test
  void aBadTomcatThreadCapIsRefusedNamingTheOptionAndTheValue() {
    assertThat(E2eRun.tomcatThreads("32")).isEqualTo("32");
    assertThatThrownBy(() -> E2eRun.tomcatThreads("0"))
        .hasMessage("--tomcat-threads must be a whole number in [1, 9999], got '0'");
    assertThatThrownBy(() -> E2eRun.tomcatThreads("lots")).hasMessageContaining("got 'lots'");
  }
}
