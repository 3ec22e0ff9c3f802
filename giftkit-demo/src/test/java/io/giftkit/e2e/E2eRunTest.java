package io.giftkit.e2e;

import static org.assertj.core.api.Assertions.assertThat;

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
}
