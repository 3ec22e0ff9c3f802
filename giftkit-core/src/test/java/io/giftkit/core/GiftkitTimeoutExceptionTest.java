package io.giftkit.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GiftkitTimeoutExceptionTest {

  @Test
  void messageCarriesOperationBudgetAndState() {
    GiftkitTimeoutException e =
        GiftkitTimeoutException.of("privileged-gifts", Duration.ofMillis(50), "inFlight=64, queued=12");
    assertThat(e)
        .isInstanceOf(GiftkitException.class)
        .hasMessage("privileged-gifts timed out after 50ms (inFlight=64, queued=12)");
    assertThat(e.operation()).isEqualTo("privileged-gifts");
    assertThat(e.budget()).isEqualTo(Duration.ofMillis(50));
  }

  @Test
  void stateIsOptional() {
    assertThat(GiftkitTimeoutException.of("load", Duration.ofSeconds(2), null))
        .hasMessage("load timed out after 2s");
    assertThat(GiftkitTimeoutException.of("load", Duration.ofSeconds(2), ""))
        .hasMessage("load timed out after 2s");
  }

  @Test
  void skipsTheStackTraceBecauseTimeoutsComeInStorms() {
    assertThat(GiftkitTimeoutException.of("x", Duration.ofMillis(1), null).getStackTrace()).isEmpty();
  }
}
