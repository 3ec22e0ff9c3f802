package io.giftkit.mq.recheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

  @Test
  void doublesFromTheInitialDelayUpToTheCapWithJitterBetweenHalfAndAll() {
    RetryBackoff least = RetryBackoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(30), () -> 0.0);
    RetryBackoff most = RetryBackoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(30), () -> 1.0);
    long[] full = {2_000, 4_000, 8_000, 16_000, 30_000, 30_000};
    for (int attempt = 1; attempt <= full.length; attempt++) {
      assertThat(least.delayMillis(attempt)).as("attempt %d", attempt).isEqualTo(full[attempt - 1] / 2);
      assertThat(most.delayMillis(attempt)).as("attempt %d", attempt).isEqualTo(full[attempt - 1]);
    }
    assertThat(most.delayMillis(1_000)).as("no overflow on many attempts").isEqualTo(30_000);
    RetryBackoff huge = RetryBackoff.exponential(Duration.ofDays(1), Duration.ofDays(365 * 100), () -> 1.0);
    assertThat(huge.delayMillis(1_000)).isEqualTo(Duration.ofDays(365 * 100).toMillis());
  }

  @Test
  void aFixedDelayIsTheSameAfterEveryAttemptWithoutJitter() {
    RetryBackoff fixed = RetryBackoff.fixed(Duration.ofSeconds(2));
    for (int attempt = 1; attempt <= 40; attempt++) {
      assertThat(fixed.delayMillis(attempt)).isEqualTo(2_000);
    }
  }

  @Test
  void theDefaultJitterDrawsAcrossTheRange() {
    RetryBackoff b = RetryBackoff.exponential(Duration.ofSeconds(10), Duration.ofSeconds(10));
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < 200; i++) {
      long d = b.delayMillis(1);
      assertThat(d).isBetween(5_000L, 10_000L);
      seen.add(d / 1_000);
    }
    assertThat(seen).as("spread over [5 s, 10 s]").hasSizeGreaterThan(3);
  }
}
