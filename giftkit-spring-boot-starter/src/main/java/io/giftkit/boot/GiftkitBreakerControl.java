package io.giftkit.boot;

import java.util.Map;

/**
 * The breakers as the {@code giftkit} endpoint sees them, without naming the breaker module's types
 * (so the endpoint starts when that module is left out). The breaker auto-configuration provides it.
 */
public interface GiftkitBreakerControl {

  /**
   * @param name a breaker's name
   * @return its snapshot (maps, lists, strings and numbers), or null when there is no such breaker
   */
  Map<String, Object> describe(String name);

  /**
   * Forces a breaker open (calls refused for its open duration, then probes decide) or closed (reset
   * with an empty window).
   *
   * @param name a breaker's name
   * @param open true to force it open, false to close it
   * @return its snapshot afterwards, or null when there is no such breaker
   */
  Map<String, Object> force(String name, boolean open);
}
