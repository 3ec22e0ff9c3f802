package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.InvalidConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BreakerConfigTest {

  @Test
  void defaultsAreThoseOfTheReferencePlatform() {
    BreakerConfig c = BreakerConfig.ofDefaults();
    assertThat(c.timeout()).isEqualTo(Duration.ofMillis(50));
    assertThat(c.failureRateThreshold()).isEqualTo(50);
    assertThat(c.window()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.windowBuckets()).isEqualTo(10);
    assertThat(c.minimumCalls()).isEqualTo(20);
    assertThat(c.openDuration()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.halfOpenProbes()).isEqualTo(5);
    assertThat(c.slowCallDurationThreshold()).isNull();
    assertThat(c.adaptiveThrottling()).isFalse();
    assertThat(c.toBuilder().build()).hasToString(c.toString());
  }

  @Test
  void badValuesFailNamingParameterAndValue() {
    assertThatThrownBy(() -> BreakerConfig.builder().failureRateThreshold(120))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("failureRateThreshold must be in (0, 100], but was 120.0");
    assertThatThrownBy(() -> BreakerConfig.builder().failureRateThreshold(0))
        .hasMessage("failureRateThreshold must be in (0, 100], but was 0.0");
    assertThatThrownBy(() -> BreakerConfig.builder().timeout(Duration.ofMillis(-50)))
        .hasMessage("timeout must be positive, but was -50ms");
    assertThatThrownBy(() -> BreakerConfig.builder().openDuration(Duration.ZERO))
        .hasMessage("openDuration must be positive, but was 0ms");
    assertThatThrownBy(() -> BreakerConfig.builder().halfOpenProbes(0))
        .hasMessage("halfOpenProbes must be in [1, 10000], but was 0");
    assertThatThrownBy(() -> BreakerConfig.builder().minimumCalls(0))
        .hasMessage("minimumCalls must be in [1, 2147483647], but was 0");
    assertThatThrownBy(() -> BreakerConfig.builder().slidingWindow(Duration.ofSeconds(10), 0))
        .hasMessage("windowBuckets must be in [1, 1000], but was 0");
    assertThatThrownBy(() -> BreakerConfig.builder().fallbackCache(-1, Duration.ofMinutes(1)))
        .hasMessage("fallbackCacheSize must be >= 0, but was -1");
    assertThatThrownBy(() -> BreakerConfig.builder().openBackoff(0.5, Duration.ofMinutes(1)))
        .hasMessage("openBackoffMultiplier must be in [1, 1000], but was 0.5");
    assertThatThrownBy(() -> BreakerConfig.builder().adaptiveThrottling(true, 0.5))
        .hasMessage("throttleK must be in [1, 100], but was 0.5");
  }

  @Test
  void crossFieldRulesAreCheckedAtBuild() {
    assertThatThrownBy(() -> BreakerConfig.builder().slidingWindow(Duration.ofNanos(10), 3).build())
        .hasMessage("windowBuckets must divide window (10ns) into equal whole-nanosecond buckets, but was 3");
    assertThatThrownBy(() -> BreakerConfig.builder().slowCalls(Duration.ofMillis(50), 50).build())
        .hasMessage("slowCallDurationThreshold must be below timeout (50ms), but was 50ms");
    assertThatThrownBy(() -> BreakerConfig.builder().openBackoff(2, Duration.ofSeconds(1)).build())
        .hasMessage("maxOpenDuration must be at least openDuration (5s), but was 1s");
  }
}
