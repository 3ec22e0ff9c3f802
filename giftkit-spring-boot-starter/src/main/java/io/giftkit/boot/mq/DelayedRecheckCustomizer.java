package io.giftkit.boot.mq;

import io.giftkit.mq.recheck.DelayedRecheck;

/**
 * Tunes the {@link DelayedRecheck} beyond what {@code giftkit.recheck.*} covers (e.g. a clock).
 * Applied in {@link org.springframework.core.Ordered order} after the properties.
 */
@FunctionalInterface
public interface DelayedRecheckCustomizer {

  /** @param builder the builder, holding the properties' values */
  void customize(DelayedRecheck.Builder builder);
}
