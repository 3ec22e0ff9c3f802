package io.giftkit.boot;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.core.Site;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code giftkit} Actuator endpoint: the local site and a snapshot of every breaker
 * ({@code /actuator/giftkit}), or of one ({@code /actuator/giftkit/{name}}).
 */
@Endpoint(id = "giftkit")
public class GiftkitEndpoint {

  private final Site site;
  private final BreakerRegistry breakers;
  private final List<GiftkitEndpointContributor> contributors;

  /**
   * Creates the endpoint.
   *
   * @param site the local site, or null when none is configured
   * @param breakers the breaker registry, or null when the breaker module is absent
   * @param contributors the other modules' parts
   */
  public GiftkitEndpoint(Site site, BreakerRegistry breakers, List<GiftkitEndpointContributor> contributors) {
    this.site = site;
    this.breakers = breakers;
    this.contributors = List.copyOf(contributors);
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
