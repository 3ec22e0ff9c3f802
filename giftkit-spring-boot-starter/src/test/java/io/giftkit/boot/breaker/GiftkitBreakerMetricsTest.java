package io.giftkit.boot.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.breaker.BreakerConfig;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;

/**
 * The breaker meters keep reading their breaker after garbage collections. Micrometer holds a meter's
 * object weakly and the registry hands over each breaker's source as a fresh method reference: before
 * the binder kept those references, the first collection turned every breaker gauge into NaN and every
 * breaker counter into 0 (seen on the demo's scrape after a load run).
 */
class GiftkitBreakerMetricsTest {

  @Test
  void breakerMetersStillReadTheBreakerAfterGarbageCollection() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    BreakerRegistry breakers = BreakerRegistry.of(BreakerConfig.ofDefaults());
    new GiftkitBreakerMetrics(breakers).bindTo(meters);
    CircuitBreaker before = breakers.circuitBreaker("made-before-gc");
    for (int i = 0; i < 3; i++) {
      before.execute(() -> "ok");
    }

    collectGarbage();
    CircuitBreaker after = breakers.circuitBreaker("made-after-binding");
    after.execute(() -> "ok");
    collectGarbage();

    assertThat(meters.get("giftkit.breaker.calls").tag("name", "made-before-gc").tag("outcome", "success")
        .functionCounter().count()).isEqualTo(3);
    assertThat(meters.get("giftkit.breaker.state").tag("name", "made-before-gc").tag("state", "closed").gauge().value())
        .isEqualTo(1);
    assertThat(meters.get("giftkit.breaker.window.calls").tag("name", "made-before-gc").gauge().value()).isEqualTo(3);
    assertThat(meters.get("giftkit.breaker.calls").tag("name", "made-after-binding").tag("outcome", "success")
        .functionCounter().count()).isEqualTo(1);
    breakers.close();
  }

  /** Collects until a weakly held canary is gone, so weakly held meter objects would be gone too. */
  private static void collectGarbage() {
    WeakReference<Object> canary = new WeakReference<>(new Object());
    for (int i = 0; i < 100 && canary.get() != null; i++) {
      System.gc();
    }
    assertThat(canary.get()).as("a garbage collection happened").isNull();
  }
}
