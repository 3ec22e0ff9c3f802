package io.giftkit.boot;

import io.giftkit.core.Site;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code giftkit} Actuator endpoint, read-only: the local site and every module's part
 * ({@code /actuator/giftkit}: breakers, caches, consumers, re-checks, shards …, each given by its
 * module through a {@link GiftkitEndpointContributor}), and one breaker
 * ({@code /actuator/giftkit/{name}}). It names no module's types, so any module can be left out.
 * The operations that change state (force a breaker, demote a hot key) are in
 * {@link GiftkitWritableEndpoint}, used instead only with
 * {@code giftkit.endpoint.write-operations-enabled=true}.
 */
@Endpoint(id = "giftkit")
public class GiftkitEndpoint {

  private final Site site;
  private final List<GiftkitEndpointContributor> contributors;
  private final GiftkitBreakerControl breakers;

  /**
   * Creates the endpoint.
   *
   * @param site the local site, or null when none is configured
   * @param contributors the modules' parts
   * @param breakers the breakers, or null when the breaker module is absent
   */
  public GiftkitEndpoint(Site site, List<GiftkitEndpointContributor> contributors, GiftkitBreakerControl breakers) {
    this.site = site;
    this.contributors = List.copyOf(contributors);
    this.breakers = breakers;
  }

  /** @return the site and every module's part */
  @ReadOperation
  public Map<String, Object> giftkit() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("site", site == null ? null : site.name());
    for (GiftkitEndpointContributor c : contributors) {
      body.put(c.key(), c.describe());
    }
    return body;
  }

  /**
   * @param name a breaker's name
   * @return its snapshot, or null (404) when there is no such breaker or no breaker module
   */
  @ReadOperation
  public Map<String, Object> breaker(@Selector String name) {
    return breakers == null ? null : breakers.describe(name);
  }

  /** @return the breakers, or null when the breaker module is absent */
  protected GiftkitBreakerControl breakers() {
    return breakers;
  }
}
