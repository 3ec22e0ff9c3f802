package io.giftkit.boot.breaker;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.breaker.CircuitBreaker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Micrometer meters for every breaker of a {@link BreakerRegistry}, existing and future, tagged
 * {@code name=<breaker>}:
 *
 * <ul>
 *   <li>{@code giftkit.breaker.state} (gauge, tag {@code state}: 1 for the current state, else 0);
 *   <li>{@code giftkit.breaker.failure.rate}, {@code giftkit.breaker.slow.call.rate} (gauges, percent
 *       of the calls in the window; NaN while it is empty), {@code giftkit.breaker.window.calls};
 *   <li>{@code giftkit.breaker.calls} (counter, tag {@code outcome}: success, failure, timeout, open,
 *       pool_full, rate_limited, throttled);
 *   <li>{@code giftkit.breaker.fallbacks} (counter, tag {@code source}: cached, default) and
 *       {@code giftkit.breaker.late.answers}.
 * </ul>
 */
public final class GiftkitBreakerMetrics implements MeterBinder {

  private final BreakerRegistry breakers;
  // Micrometer holds a gauge's or function counter's object weakly, and the registry hands each
  // breaker's snapshot source over as a fresh method reference that nothing else keeps: without
  // these references the sources were collected at the first GC and every breaker meter read NaN or 0.
  private final List<Supplier<BreakerSnapshot>> sources = new CopyOnWriteArrayList<>();

  /**
   * Creates the binder.
   *
   * @param breakers the registry whose breakers to measure
   */
  public GiftkitBreakerMetrics(BreakerRegistry breakers) {
    this.breakers = breakers;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    breakers.addCreationListener(source -> bind(registry, source));
  }

  private void bind(MeterRegistry registry, Supplier<BreakerSnapshot> source) {
    sources.add(source);
    Tags tags = Tags.of("name", source.get().name());
    for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
      Gauge.builder("giftkit.breaker.state", source, s -> s.get().state() == state ? 1 : 0)
          .tags(tags.and("state", lower(state))).description("1 for the breaker's current state, else 0")
          .register(registry);
    }
    // ratios 0-1 (Prometheus convention), 0 while the window is empty rather than NaN: read them with
    // giftkit.breaker.window.calls
    Gauge.builder("giftkit.breaker.failure.ratio", source, s -> ratio(s.get().failureRate())).tags(tags)
        .description("failures as a ratio (0-1) of the calls in the sliding window; 0 while it is empty")
        .register(registry);
    Gauge.builder("giftkit.breaker.slow.call.ratio", source, s -> ratio(s.get().slowCallRate())).tags(tags)
        .description("slow calls as a ratio (0-1) of the calls in the sliding window; 0 while it is empty")
        .register(registry);
    Gauge.builder("giftkit.breaker.window.calls", source, s -> s.get().callsInWindow()).tags(tags)
        .description("calls recorded in the sliding window").register(registry);
    for (CallOutcome outcome : CallOutcome.values()) {
      FunctionCounter.builder("giftkit.breaker.calls", source, s -> s.get().total(outcome))
          .tags(tags.and("outcome", lower(outcome))).description("calls by outcome").register(registry);
    }
    FunctionCounter.builder("giftkit.breaker.fallbacks", source, s -> s.get().fallbacksCached())
        .tags(tags.and("source", "cached")).description("fallbacks served").register(registry);
    FunctionCounter.builder("giftkit.breaker.fallbacks", source, s -> s.get().fallbacksDefault())
        .tags(tags.and("source", "default")).description("fallbacks served").register(registry);
    FunctionCounter.builder("giftkit.breaker.late.answers", source, s -> s.get().lateAnswers())
        .tags(tags).description("answers that arrived after the caller had the fallback").register(registry);
  }

  /** A rate in percent (NaN with no calls) as a ratio 0-1, 0 with no calls. */
  static double ratio(double percent) {
    return Double.isNaN(percent) ? 0 : percent / 100.0;
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
