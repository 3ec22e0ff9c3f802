package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.FakeTicker;
import io.giftkit.core.InvalidConfigException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BreakerRegistryTest {

  private final BreakerConfig defaults = BreakerConfig.builder().timeout(Duration.ofMillis(80)).minimumCalls(30).build();

  @Test
  void perNameSettingsInheritTheDefaults() {
    try (BreakerRegistry registry = BreakerRegistry.of(defaults)) {
      registry.configure("privileged", b -> b.failureRateThreshold(25));
      BreakerConfig c = registry.configFor("privileged");
      assertThat(c.failureRateThreshold()).isEqualTo(25);
      assertThat(c.timeout()).isEqualTo(Duration.ofMillis(80));
      assertThat(c.minimumCalls()).isEqualTo(30);
      assertThat(registry.configFor("other")).isSameAs(defaults);

      LatencyBreaker<List<String>> lb = registry.latencyBreaker("privileged", List.of());
      assertThat(lb.circuitBreaker().config().failureRateThreshold()).isEqualTo(25);
      assertThat(registry.<List<String>>latencyBreaker("privileged", List.of("ignored"))).isSameAs(lb);
      assertThat(lb.defaultValue()).isEmpty();
    }
  }

  @Test
  void configuringAnExistingNameReconfiguresItInPlace() {
    try (BreakerRegistry registry = BreakerRegistry.of(defaults)) {
      CircuitBreaker cb = registry.circuitBreaker("room-info");
      LatencyBreaker<String> lb = registry.latencyBreaker("room-info", "none");
      registry.configure("room-info", b -> b.openDuration(Duration.ofSeconds(30)));
      assertThat(cb.config().openDuration()).isEqualTo(Duration.ofSeconds(30));
      assertThat(lb.circuitBreaker().config().openDuration()).isEqualTo(Duration.ofSeconds(30));
      assertThat(registry.circuitBreaker("room-info")).isSameAs(cb);
      assertThat(registry.snapshots()).hasSize(2);
    }
  }

  @Test
  void anInvalidOverrideChangesNothing() {
    try (BreakerRegistry registry = BreakerRegistry.of(defaults)) {
      CircuitBreaker cb = registry.circuitBreaker("x");
      assertThatThrownBy(() -> registry.configure("x", b -> b.failureRateThreshold(150)))
          .isInstanceOf(InvalidConfigException.class)
          .hasMessage("failureRateThreshold must be in (0, 100], but was 150.0");
      assertThat(cb.config()).isSameAs(defaults);
      assertThat(registry.configFor("x")).isSameAs(defaults);
    }
  }

  @Test
  void creationListenersHearExistingAndNewBreakers() {
    try (BreakerRegistry registry = BreakerRegistry.of(defaults)) {
      registry.circuitBreaker("before");
      java.util.List<String> heard = new java.util.ArrayList<>();
      registry.addCreationListener(source -> heard.add(source.get().name()));
      registry.addCreationListener(source -> {
        throw new IllegalStateException("listener bug");
      });
      registry.latencyBreaker("after", "");
      assertThat(heard).containsExactly("before", "after");
      assertThat(registry.findLatencyBreaker("after")).isPresent();
      assertThat(registry.findCircuitBreaker("before")).isPresent();
      assertThat(registry.findCircuitBreaker("after")).isEmpty();
    }
  }

  @Test
  void theNumberOfBreakersIsBounded() {
    try (BreakerRegistry registry = BreakerRegistry.of(defaults, 3, new FakeTicker())) {
      registry.circuitBreaker("a");
      registry.circuitBreaker("b");
      registry.latencyBreaker("c", "");
      assertThatThrownBy(() -> registry.circuitBreaker("d"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("holds 3 breakers")
          .hasMessageContaining("'d'");
      assertThat(registry.circuitBreaker("a")).isNotNull();
    }
  }
}
