package io.giftkit.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FakeTickerTest {

  @Test
  void movesOnlyWhenAdvanced() {
    FakeTicker ticker = new FakeTicker(100);
    assertThat(ticker.read()).isEqualTo(100);
    assertThat(ticker.read()).isEqualTo(100);
    ticker.advance(Duration.ofMillis(50)).advanceNanos(7);
    assertThat(ticker.read()).isEqualTo(100 + 50_000_000 + 7);
  }

  @Test
  void refusesToGoBackwards() {
    FakeTicker ticker = new FakeTicker();
    assertThatThrownBy(() -> ticker.advance(Duration.ofMillis(-1)))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("duration must not be negative, but was -1ms");
    assertThatThrownBy(() -> ticker.advanceNanos(-5))
        .hasMessage("nanosToAdd must be >= 0, but was -5");
  }

  @Test
  void systemTickerIsMonotonic() {
    Ticker system = Ticker.system();
    long previous = system.read();
    for (int i = 0; i < 10_000; i++) {
      long now = system.read();
      assertThat(now).isGreaterThanOrEqualTo(previous);
      previous = now;
    }
    assertThat(Ticker.system()).isSameAs(system).hasToString("Ticker.system()");
  }
}
