package io.giftkit.boot.breaker;

import io.giftkit.boot.GiftkitBreakerControl;
import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.breaker.CircuitBreaker;
import io.giftkit.breaker.LatencyBreaker;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The breakers' part of the {@code giftkit} endpoint: every breaker's snapshot under {@code breakers},
 * one breaker by name, and forcing one open or closed (offered by the endpoint only when its write
 * operations are enabled).
 */
final class BreakerEndpointPart implements GiftkitEndpointContributor, GiftkitBreakerControl {

  private final BreakerRegistry breakers;

  BreakerEndpointPart(BreakerRegistry breakers) {
    this.breakers = breakers;
  }

  @Override
  public String key() {
    return "breakers";
  }

  @Override
  public Object describe() {
    return breakers.snapshots().stream()
        .collect(Collectors.toMap(BreakerSnapshot::name, BreakerEndpointPart::describe, (a, b) -> a,
            LinkedHashMap::new));
  }

  @Override
  public Map<String, Object> describe(String name) {
    List<BreakerSnapshot> matching = breakers.snapshots().stream().filter(s -> s.name().equals(name)).toList();
    return matching.isEmpty() ? null : describe(matching.get(0));
  }

  @Override
  public Map<String, Object> force(String name, boolean open) {
    Optional<CircuitBreaker> breaker = breakers.findCircuitBreaker(name)
        .or(() -> breakers.findLatencyBreaker(name).map(LatencyBreaker::circuitBreaker));
    if (breaker.isEmpty()) {
      return null;
    }
    if (open) {
      breaker.get().forceOpen();
    } else {
      breaker.get().reset();
    }
    return describe(name);
  }

  static Map<String, Object> describe(BreakerSnapshot s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", s.state().name());
    m.put("callsInWindow", s.callsInWindow());
    m.put("failureRate", Double.isNaN(s.failureRate()) ? null : s.failureRate());
    m.put("slowCallRate", Double.isNaN(s.slowCallRate()) ? null : s.slowCallRate());
    Map<String, Long> totals = new LinkedHashMap<>();
    for (CallOutcome o : CallOutcome.values()) {
      totals.put(o.name().toLowerCase(Locale.ROOT), s.total(o));
    }
    m.put("calls", totals);
    m.put("fallbacksCached", s.fallbacksCached());
    m.put("fallbacksDefault", s.fallbacksDefault());
    m.put("lateAnswers", s.lateAnswers());
    return m;
  }
}
