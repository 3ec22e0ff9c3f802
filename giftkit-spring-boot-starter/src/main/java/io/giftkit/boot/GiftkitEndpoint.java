package io.giftkit.boot;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.breaker.CircuitBreaker;
import io.giftkit.breaker.LatencyBreaker;
import java.util.Optional;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import io.giftkit.core.Site;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code giftkit} Actuator endpoint: the local site, a snapshot of every breaker and the other
 * modules' parts ({@code /actuator/giftkit}), one breaker ({@code /actuator/giftkit/{name}}), a
 * write operation forcing a breaker open or closed, and a delete operation demoting a hot key.
 */
@Endpoint(id = "giftkit")
public class GiftkitEndpoint {

  private final Site site;
  private final BreakerRegistry breakers;
  private final List<GiftkitEndpointContributor> contributors;
  private final GiftkitHotKeys hotKeys;

  /**
   * Creates the endpoint.
   *
   * @param site the local site, or null when none is configured
   * @param breakers the breaker registry, or null when the breaker module is absent
   * @param contributors the other modules' parts
   * @param hotKeys demotes hot keys, or null when no cache is configured
   */
  public GiftkitEndpoint(Site site, BreakerRegistry breakers, List<GiftkitEndpointContributor> contributors,
      GiftkitHotKeys hotKeys) {
    this.site = site;
    this.breakers = breakers;
    this.contributors = List.copyOf(contributors);
    this.hotKeys = hotKeys;
  }

  /**
   * Demotes a hot key now: {@code DELETE /actuator/giftkit/{cache}/{key}}. Every instance's own
   * detector decides for itself; this clears it on this instance. If the key is still as hot, it
   * is promoted again on its next reads.
   *
   * @param cache the cache's name
   * @param key the key as text
   * @return {@code {"cleared": true|false}}
   */
  @DeleteOperation
  public Map<String, Object> clearHotKey(@Selector String cache, @Selector String key) {
    return Map.of("cleared", hotKeys != null && hotKeys.clearHotKey(cache, key));
  }

  /** @return the site and every breaker's snapshot */
  @ReadOperation
  public Map<String, Object> giftkit() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("site", site == null ? null : site.name());
    if (breakers != null) {
      body.put("breakers", breakers.snapshots().stream()
          .collect(Collectors.toMap(BreakerSnapshot::name, GiftkitEndpoint::describe, (a, b) -> a, LinkedHashMap::new)));
    }
    for (GiftkitEndpointContributor c : contributors) {
      body.put(c.key(), c.describe());
    }
    return body;
  }

  /**
   * @param name a breaker's name
   * @return its snapshot, or null (404) when there is no such breaker
   */
  @ReadOperation
  public Map<String, Object> breaker(@Selector String name) {
    if (breakers == null) {
      return null;
    }
    List<BreakerSnapshot> matching = breakers.snapshots().stream().filter(s -> s.name().equals(name)).toList();
    return matching.isEmpty() ? null : describe(matching.get(0));
  }

  /**
   * Forces a breaker open (calls refused for its open duration, then probes decide) or closed (reset
   * with an empty window): {@code POST /actuator/giftkit/{name}} with {@code {"state": "open"}}.
   *
   * @param name a breaker's name
   * @param state {@code open} or {@code closed}
   * @return the breaker's snapshot afterwards, or null (404) when there is no such breaker
   */
  @WriteOperation
  public Map<String, Object> setBreakerState(@Selector String name, String state) {
    if (!"open".equalsIgnoreCase(state) && !"closed".equalsIgnoreCase(state)) {
      throw new InvalidEndpointRequestException("state must be 'open' or 'closed', but was '" + state + "'",
          "state must be 'open' or 'closed'");
    }
    if (breakers == null) {
      return null;
    }
    Optional<CircuitBreaker> breaker = breakers.findCircuitBreaker(name)
        .or(() -> breakers.findLatencyBreaker(name).map(LatencyBreaker::circuitBreaker));
    if (breaker.isEmpty()) {
      return null;
    }
    if ("open".equalsIgnoreCase(state)) {
      breaker.get().forceOpen();
    } else {
      breaker.get().reset();
    }
    return breaker(name);
  }

  static Map<String, Object> describe(BreakerSnapshot s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", s.state().name());
    m.put("callsInWindow", s.callsInWindow());
    m.put("failureRate", Double.isNaN(s.failureRate()) ? null : s.failureRate());
    m.put("slowCallRate", Double.isNaN(s.slowCallRate()) ? null : s.slowCallRate());
    Map<String, Long> totals = new LinkedHashMap<>();
    for (CallOutcome o : CallOutcome.values()) {
      totals.put(o.name().toLowerCase(java.util.Locale.ROOT), s.total(o));
    }
    m.put("calls", totals);
    m.put("fallbacksCached", s.fallbacksCached());
    m.put("fallbacksDefault", s.fallbacksDefault());
    m.put("lateAnswers", s.lateAnswers());
    return m;
  }
}
