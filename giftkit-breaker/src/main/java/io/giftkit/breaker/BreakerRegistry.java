package io.giftkit.breaker;

import io.giftkit.core.Checks;
import io.giftkit.core.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Named breakers, one per dependency, whose configurations inherit a default:
 *
 * <pre>{@code
 * BreakerRegistry registry = BreakerRegistry.of(BreakerConfig.ofDefaults());
 * registry.configure("privileged-gifts", b -> b.timeout(Duration.ofMillis(50)).failureRateThreshold(50));
 * LatencyBreaker<List<Gift>> privileged = registry.latencyBreaker("privileged-gifts", List.of());
 * }</pre>
 *
 * <p>{@link #configure} applies overrides on top of the default configuration; configuring a name
 * whose breaker already exists reconfigures it in place. The registry holds at most
 * {@code maxBreakers} breakers (default 1,000) and refuses to create more with a clear error, so a
 * name built from user input cannot leak memory.
 *
 * <p>Thread-safe. A name maps to one breaker for the registry's life; asking for a latency breaker
 * of a name with a different value type than before is the caller's error (the value type is not
 * checked at run time).
 */
public final class BreakerRegistry implements AutoCloseable {

  /** Default bound on the number of breakers: 1,000. */
  public static final int DEFAULT_MAX_BREAKERS = 1_000;

  private final BreakerConfig defaults;
  private final int maxBreakers;
  private final Ticker ticker;
  private final Map<String, UnaryOperator<BreakerConfig.Builder>> overrides = new ConcurrentHashMap<>();
  private final Map<String, LatencyBreaker<?>> latencyBreakers = new ConcurrentHashMap<>();
  private final Map<String, CircuitBreaker> circuitBreakers = new ConcurrentHashMap<>();

  private BreakerRegistry(BreakerConfig defaults, int maxBreakers, Ticker ticker) {
    this.defaults = defaults;
    this.maxBreakers = maxBreakers;
    this.ticker = ticker;
  }

  /**
   * Creates a registry.
   *
   * @param defaults the configuration every name starts from
   * @return the registry
   */
  public static BreakerRegistry of(BreakerConfig defaults) {
    return of(defaults, DEFAULT_MAX_BREAKERS, Ticker.system());
  }

  /**
   * Creates a registry.
   *
   * @param defaults the configuration every name starts from
   * @param maxBreakers the most breakers it holds; in [1, 1000000]
   * @param ticker the time source of the breakers it creates
   * @return the registry
   */
  public static BreakerRegistry of(BreakerConfig defaults, int maxBreakers, Ticker ticker) {
    return new BreakerRegistry(Checks.requireNonNull("defaults", defaults),
        (int) Checks.requireInRange("maxBreakers", maxBreakers, 1, 1_000_000), Checks.requireNonNull("ticker", ticker));
  }

  /**
   * Sets the overrides for a name, applied on top of the defaults; an existing breaker of that name
   * is reconfigured in place.
   *
   * @param name the breaker's name
   * @param override changes to a builder holding the defaults
   * @return the resulting configuration
   * @throws io.giftkit.core.InvalidConfigException if the result is invalid (nothing is changed then)
   */
  public BreakerConfig configure(String name, UnaryOperator<BreakerConfig.Builder> override) {
    Checks.requireNonBlank("name", name);
    Checks.requireNonNull("override", override);
    BreakerConfig config = override.apply(defaults.toBuilder()).build();
    overrides.put(name, override);
    LatencyBreaker<?> lb = latencyBreakers.get(name);
    if (lb != null) {
      lb.reconfigure(config);
    }
    CircuitBreaker cb = circuitBreakers.get(name);
    if (cb != null) {
      cb.reconfigure(config);
    }
    return config;
  }

  /**
   * Returns the configuration a breaker of this name gets: the defaults with its overrides.
   *
   * @param name the name
   * @return the configuration
   */
  public BreakerConfig configFor(String name) {
    UnaryOperator<BreakerConfig.Builder> o = overrides.get(name);
    return o == null ? defaults : o.apply(defaults.toBuilder()).build();
  }

  /**
   * Returns the latency breaker of this name, creating it on first use.
   *
   * @param <V> the value type
   * @param name the name
   * @param defaultValue its default value (used only when it is created)
   * @return the breaker
   * @throws IllegalStateException if creating it would exceed {@code maxBreakers}
   */
  @SuppressWarnings("unchecked")
  public <V> LatencyBreaker<V> latencyBreaker(String name, V defaultValue) {
    Checks.requireNonBlank("name", name);
    return (LatencyBreaker<V>) latencyBreakers.computeIfAbsent(name, n -> {
      checkRoom(n);
      return LatencyBreaker.<V>builder(n).config(configFor(n)).defaultValue(defaultValue).ticker(ticker).build();
    });
  }

  /**
   * Returns the circuit breaker of this name, creating it on first use.
   *
   * @param name the name
   * @return the breaker
   * @throws IllegalStateException if creating it would exceed {@code maxBreakers}
   */
  public CircuitBreaker circuitBreaker(String name) {
    Checks.requireNonBlank("name", name);
    return circuitBreakers.computeIfAbsent(name, n -> {
      checkRoom(n);
      return CircuitBreaker.of(n, configFor(n), ticker);
    });
  }

  private void checkRoom(String name) {
    int size = latencyBreakers.size() + circuitBreakers.size();
    if (size >= maxBreakers) {
      throw new IllegalStateException("BreakerRegistry holds " + size + " breakers, its maxBreakers;"
          + " refusing to create '" + name + "' (are names built from user input?)");
    }
  }

  /**
   * Returns snapshots of every breaker, for metrics.
   *
   * @return a new list
   */
  public List<BreakerSnapshot> snapshots() {
    List<BreakerSnapshot> all = new ArrayList<>();
    latencyBreakers.values().forEach(b -> all.add(b.snapshot()));
    circuitBreakers.values().forEach(b -> all.add(b.snapshot()));
    return all;
  }

  /** Closes every latency breaker (their own pools and timers). */
  @Override
  public void close() {
    latencyBreakers.values().forEach(LatencyBreaker::close);
  }
}
