package io.giftkit.breaker;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
  private final Map<String, BreakerConfig> configs = new ConcurrentHashMap<>();
  private final Map<String, LatencyBreaker<?>> latencyBreakers = new ConcurrentHashMap<>();
  private final Map<String, CircuitBreaker> circuitBreakers = new ConcurrentHashMap<>();
  private final Listeners<Consumer<Supplier<BreakerSnapshot>>> creationListeners = Listeners.create("BreakerRegistry");

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
   * Sets the overrides for a name, applied once on top of the defaults; an existing breaker of that
   * name is reconfigured in place.
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
    configs.put(name, config);
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
    return configs.getOrDefault(name, defaults);
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
      LatencyBreaker<V> created = LatencyBreaker.<V>builder(n).config(configFor(n)).defaultValue(defaultValue)
          .ticker(ticker).build();
      creationListeners.fire(l -> l.accept(created::snapshot));
      return created;
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
      CircuitBreaker created = CircuitBreaker.of(n, configFor(n), ticker);
      creationListeners.fire(l -> l.accept(created::snapshot));
      return created;
    });
  }

  /**
   * Returns the latency breaker of this name if it exists.
   *
   * @param name the name
   * @return the breaker, if created
   */
  public Optional<LatencyBreaker<?>> findLatencyBreaker(String name) {
    return Optional.ofNullable(latencyBreakers.get(name));
  }

  /**
   * Returns the circuit breaker of this name if it exists.
   *
   * @param name the name
   * @return the breaker, if created
   */
  public Optional<CircuitBreaker> findCircuitBreaker(String name) {
    return Optional.ofNullable(circuitBreakers.get(name));
  }

  /**
   * Tells {@code listener} about every breaker: at once about those that exist, then about each one
   * created later (on the creating thread). It receives a source of the breaker's snapshots, e.g.
   * for registering metrics. A breaker created while the listener is being added may be reported
   * twice. A listener that throws is logged and ignored.
   *
   * @param listener receives a snapshot source per breaker
   */
  public void addCreationListener(Consumer<Supplier<BreakerSnapshot>> listener) {
    Checks.requireNonNull("listener", listener);
    creationListeners.add(listener);
    Listeners<Consumer<Supplier<BreakerSnapshot>>> one = Listeners.create("BreakerRegistry");
    one.add(listener);
    latencyBreakers.values().forEach(b -> one.fire(l -> l.accept(b::snapshot)));
    circuitBreakers.values().forEach(b -> one.fire(l -> l.accept(b::snapshot)));
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
