package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.InvalidConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlowSqlBreakerConfigTest {

  @Test
  void defaults() {
    SlowSqlBreakerConfig c = SlowSqlBreakerConfig.ofDefaults();
    assertThat(c.slowCallRateThreshold()).isEqualTo(50.0);
    assertThat(c.minimumCalls()).isEqualTo(10);
    assertThat(c.window()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.openDuration()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.halfOpenProbes()).isEqualTo(3);
    assertThat(c.maxTemplates()).isEqualTo(1_000);
    assertThat(c).hasToString("SlowSqlBreakerConfig{slowCallRateThreshold=50.0, minimumCalls=10, window=10s,"
        + " openDuration=5s, halfOpenProbes=3, maxTemplates=1000}");
  }

  @Test
  void badValuesAreNamedWithTheRuleAndTheValue() {
    SlowSqlBreakerConfig.Builder b = SlowSqlBreakerConfig.builder();
    assertThatThrownBy(() -> b.slowCallRateThreshold(120)).isInstanceOf(InvalidConfigException.class)
        .hasMessage("slowCallRateThreshold must be in (0, 100], but was 120.0");
    assertThatThrownBy(() -> b.slowCallRateThreshold(0)).hasMessage("slowCallRateThreshold must be in (0, 100], but was 0.0");
    assertThatThrownBy(() -> b.minimumCalls(0)).hasMessage("minimumCalls must be in [1, 10000], but was 0");
    assertThatThrownBy(() -> b.window(Duration.ofMillis(50))).hasMessage("window must be in [100ms, 10m], but was 50ms");
    assertThatThrownBy(() -> b.window(null)).hasMessage("window must not be null, but was null");
    assertThatThrownBy(() -> b.openDuration(Duration.ZERO)).hasMessage("openDuration must be positive, but was 0ms");
    assertThatThrownBy(() -> b.openDuration(Duration.ofHours(2))).hasMessage("openDuration must be in [10ms, 1h], but was 2h");
    assertThatThrownBy(() -> b.halfOpenProbes(101)).hasMessage("halfOpenProbes must be in [1, 100], but was 101");
    assertThatThrownBy(() -> b.maxTemplates(0)).hasMessage("maxTemplates must be in [1, 100000], but was 0");
  }
}
