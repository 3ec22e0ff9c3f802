package io.giftkit.boot;

import io.giftkit.core.Site;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code giftkit} endpoint with the operations that change state: force a breaker open or closed,
 * demote a hot key, close a statement template's slow-SQL breakers. Used instead of {@link GiftkitEndpoint} only with
 * {@code giftkit.endpoint.write-operations-enabled=true}: exposing the endpoint (for dashboards or
 * the Kubernetes example) does not by itself let anyone who reaches it open a breaker. Secure it as
 * any Actuator write operation (Spring Security, a management port reachable by operators only).
 */
@Endpoint(id = "giftkit")
public class GiftkitWritableEndpoint extends GiftkitEndpoint {

  private final GiftkitHotKeys hotKeys;
  private final GiftkitSlowSqlBreakers slowSql;

  /**
   * Creates the endpoint.
   *
   * @param site the local site, or null when none is configured
   * @param contributors the modules' parts
   * @param breakers the breakers, or null when the breaker module is absent
   * @param hotKeys demotes hot keys, or null when no cache is configured
   */
  public GiftkitWritableEndpoint(Site site, List<GiftkitEndpointContributor> contributors,
      GiftkitBreakerControl breakers, GiftkitHotKeys hotKeys) {
    this(site, contributors, breakers, hotKeys, null);
  }

  /**
   * Creates the endpoint.
   *
   * @param site the local site, or null when none is configured
   * @param contributors the modules' parts
   * @param breakers the breakers, or null when the breaker module is absent
   * @param hotKeys demotes hot keys, or null when no cache is configured
   * @param slowSql closes slow-SQL breakers, or null when no shard is configured
   */
  public GiftkitWritableEndpoint(Site site, List<GiftkitEndpointContributor> contributors,
      GiftkitBreakerControl breakers, GiftkitHotKeys hotKeys, GiftkitSlowSqlBreakers slowSql) {
    super(site, contributors, breakers);
    this.hotKeys = hotKeys;
    this.slowSql = slowSql;
  }

  /**
   * Closes the slow-SQL breakers of a statement template on every shard, with empty windows (once
   * its cause is fixed; they also close by themselves through their probes):
   * {@code POST /actuator/giftkit} with {@code {"slowSqlTemplate": "<the template as shown under shards.slowSqlBreaker>"}}.
   *
   * @param slowSqlTemplate the template, as the endpoint shows it
   * @return {@code {"reset": n}}, the (template, shard) breakers that were open or half-open, or
   *     null (404) when no shard is configured
   */
  @WriteOperation
  public Map<String, Object> resetSlowSqlBreaker(String slowSqlTemplate) {
    if (slowSqlTemplate == null || slowSqlTemplate.isBlank()) {
      throw new InvalidEndpointRequestException("slowSqlTemplate must not be blank", "slowSqlTemplate must not be blank");
    }
    return slowSql == null ? null : Map.of("reset", slowSql.resetSlowSqlBreaker(slowSqlTemplate));
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
    return breakers() == null ? null : breakers().force(name, "open".equalsIgnoreCase(state));
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
}
