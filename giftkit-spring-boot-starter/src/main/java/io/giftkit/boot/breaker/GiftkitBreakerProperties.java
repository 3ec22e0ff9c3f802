package io.giftkit.boot.breaker;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/** {@code giftkit.breaker.*}: breaker defaults and per-name overrides. */
@ConfigurationProperties("giftkit.breaker")
public class GiftkitBreakerProperties {

  /** Settings every breaker starts from. */
  @NestedConfigurationProperty
  private BreakerSettings defaults = new BreakerSettings();

  /** Per-breaker settings, by breaker name; unset values are inherited from the defaults. */
  private Map<String, BreakerSettings> instances = new LinkedHashMap<>();

  /** Most breakers the registry holds; creating more fails (names built from user input would otherwise leak memory). */
  private int maxBreakers = io.giftkit.breaker.BreakerRegistry.DEFAULT_MAX_BREAKERS;

  public BreakerSettings getDefaults() {
    return defaults;
  }

  public void setDefaults(BreakerSettings defaults) {
    this.defaults = defaults;
  }

  public Map<String, BreakerSettings> getInstances() {
    return instances;
  }

  public void setInstances(Map<String, BreakerSettings> instances) {
    this.instances = instances;
  }

  public int getMaxBreakers() {
    return maxBreakers;
  }

  public void setMaxBreakers(int maxBreakers) {
    this.maxBreakers = maxBreakers;
  }
}
