package io.giftkit.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ChecksTest {

  @Test
  void rangeMessageNamesParameterRuleAndValue() {
    assertThatThrownBy(() -> Checks.requireInRange("failureRateThreshold", 120.0, 0, false, 100, true))
        .isInstanceOf(InvalidConfigException.class)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failureRateThreshold must be in (0, 100], but was 120.0")
        .satisfies(e -> {
          InvalidConfigException ice = (InvalidConfigException) e;
          assertThat(ice.parameter()).isEqualTo("failureRateThreshold");
          assertThat(ice.rule()).isEqualTo("must be in (0, 100]");
          assertThat(ice.value()).isEqualTo("120.0");
        });
  }

  @Test
  void rangeEndsAreOpenOrClosedAsAsked() {
    assertThat(Checks.requireInRange("p", 100.0, 0, false, 100, true)).isEqualTo(100.0);
    assertThatThrownBy(() -> Checks.requireInRange("p", 0.0, 0, false, 100, true))
        .hasMessage("p must be in (0, 100], but was 0.0");
    assertThat(Checks.requireInRange("p", 0.0, 0, true, 0.5, false)).isEqualTo(0.0);
    assertThatThrownBy(() -> Checks.requireInRange("p", 0.5, 0, true, 0.5, false))
        .hasMessage("p must be in [0, 0.5), but was 0.5");
    assertThatThrownBy(() -> Checks.requireInRange("p", Double.NaN, 0, true, 1, true))
        .hasMessage("p must be in [0, 1], but was NaN");
  }

  @Test
  void integerChecks() {
    assertThat(Checks.requirePositive("shards", 10)).isEqualTo(10);
    assertThatThrownBy(() -> Checks.requirePositive("shards", 0)).hasMessage("shards must be > 0, but was 0");
    assertThat(Checks.requireNonNegative("retries", 0)).isZero();
    assertThatThrownBy(() -> Checks.requireNonNegative("retries", -3))
        .hasMessage("retries must be >= 0, but was -3");
    assertThat(Checks.requireInRange("probes", 5, 1, 1024)).isEqualTo(5);
    assertThatThrownBy(() -> Checks.requireInRange("probes", 2000, 1, 1024))
        .hasMessage("probes must be in [1, 1024], but was 2000");
  }

  @Test
  void durationChecksShowDurationsInTheirUnit() {
    assertThat(Checks.requirePositive("budget", Duration.ofMillis(50))).isEqualTo(Duration.ofMillis(50));
    assertThatThrownBy(() -> Checks.requirePositive("budget", Duration.ZERO))
        .hasMessage("budget must be positive, but was 0ms");
    assertThatThrownBy(() -> Checks.requirePositive("budget", Duration.ofMillis(-50)))
        .hasMessage("budget must be positive, but was -50ms");
    assertThatThrownBy(() -> Checks.requirePositive("budget", null))
        .hasMessage("budget must not be null, but was null");
    assertThat(Checks.requireNonNegative("delay", Duration.ZERO)).isZero();
    assertThatThrownBy(() -> Checks.requireNonNegative("delay", Duration.ofSeconds(-5)))
        .hasMessage("delay must not be negative, but was -5s");
  }

  @Test
  void describeUsesTheLargestExactUnit() {
    assertThat(Checks.describe(Duration.ofMillis(50))).isEqualTo("50ms");
    assertThat(Checks.describe(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Checks.describe(Duration.ofSeconds(5))).isEqualTo("5s");
    assertThat(Checks.describe(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(Checks.describe(Duration.ofDays(2))).isEqualTo("2d");
    assertThat(Checks.describe(Duration.ofNanos(1500))).isEqualTo("1500ns");
    assertThat(Checks.describe(Duration.ofNanos(3000))).isEqualTo("3us");
    assertThat(Checks.describe(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Duration.ofSeconds(Long.MAX_VALUE).toString());
    assertThat(Checks.describe(null)).isEqualTo("null");
    assertThat(Checks.describe(42)).isEqualTo("42");
  }

  @Test
  void stringChecks() {
    assertThat(Checks.requireNonBlank("name", "x")).isEqualTo("x");
    assertThatThrownBy(() -> Checks.requireNonBlank("name", "  "))
        .hasMessage("name must not be blank, but was \"  \"");
    assertThatThrownBy(() -> Checks.requireNonBlank("name", null))
        .hasMessage("name must not be blank, but was null");
    Pattern digits = Pattern.compile("[0-9]+");
    assertThat(Checks.requireMatches("id", "123", digits, "digits only")).isEqualTo("123");
    assertThatThrownBy(() -> Checks.requireMatches("id", "12a", digits, "digits only"))
        .hasMessage("id must be digits only, but was \"12a\"");
  }

  @Test
  void invalidBuildsCrossFieldErrors() {
    InvalidConfigException e =
        Checks.invalid("slowCallThreshold", "must not exceed timeout (50ms)", Duration.ofMillis(80));
    assertThat(e).hasMessage("slowCallThreshold must not exceed timeout (50ms), but was 80ms");
  }
}
