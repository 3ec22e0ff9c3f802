package io.giftkit.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a bad {@code giftkit.*} property at start-up as
 * {@code giftkit.breaker.instances.privileged.failure-rate-threshold must be in (0, 100], but was 150.0},
 * with the action to take.
 */
public final class GiftkitFailureAnalyzer extends AbstractFailureAnalyzer<GiftkitPropertyException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, GiftkitPropertyException cause) {
    return new FailureAnalysis(
        cause.getMessage(),
        "Update " + cause.property() + " in your configuration so that it meets the rule: " + cause.rule()
            + " (it was " + cause.value() + ").",
        cause);
  }
}
