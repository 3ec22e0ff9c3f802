package io.giftkit.benchmarks.breaker;

import com.alibaba.csp.sentinel.Entry;
import com.alibaba.csp.sentinel.SphU;
import com.alibaba.csp.sentinel.Tracer;
import com.alibaba.csp.sentinel.slots.block.BlockException;
import com.alibaba.csp.sentinel.slots.block.RuleConstant;
import com.alibaba.csp.sentinel.slots.block.degrade.DegradeRule;
import com.alibaba.csp.sentinel.slots.block.degrade.DegradeRuleManager;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The competitors, configured like GiftKit's defaults: 50% over a 10 s window, 20 minimum calls, 5 s open. */
final class Competitors {

  private Competitors() {}

  static io.github.resilience4j.circuitbreaker.CircuitBreaker resilience4j(
      String name, SlidingWindowSynchronizationStrategy strategy) {
    return io.github.resilience4j.circuitbreaker.CircuitBreaker.of(name, CircuitBreakerConfig.custom()
        .slidingWindow(10, 20, SlidingWindowType.TIME_BASED, strategy)
        .failureRateThreshold(50)
        .waitDurationInOpenState(Duration.ofSeconds(5))
        .permittedNumberOfCallsInHalfOpenState(5)
        .build());
  }

  /** Loads an exception-ratio degrade rule (Sentinel's circuit breaker) for {@code resources}. */
  static void sentinelRules(String... resources) {
    List<DegradeRule> rules = new ArrayList<>();
    for (String resource : resources) {
      rules.add(new DegradeRule(resource)
          .setGrade(RuleConstant.DEGRADE_GRADE_EXCEPTION_RATIO)
          .setCount(0.5)
          .setTimeWindow(3_600)
          .setMinRequestAmount(20)
          .setStatIntervalMs(10_000));
    }
    DegradeRuleManager.loadRules(rules);
  }

  /** Runs {@code call} guarded by Sentinel's resource, or {@code fallback} when Sentinel blocks it. */
  static <T> T sentinel(String resource, java.util.function.Supplier<T> call, java.util.function.Supplier<T> fallback) {
    Entry entry = null;
    try {
      entry = SphU.entry(resource);
      return call.get();
    } catch (BlockException blocked) {
      return fallback.get();
    } finally {
      if (entry != null) {
        entry.exit();
      }
    }
  }

  /** Records failures on a Sentinel resource until its degrade rule blocks it. */
  static void tripSentinel(String resource) {
    RuntimeException failure = new IllegalStateException("down");
    for (int i = 0; i < 1_000; i++) {
      try {
        Entry e = SphU.entry(resource);
        Tracer.traceEntry(failure, e);
        e.exit();
      } catch (BlockException blocked) {
        return;
      }
    }
    throw new IllegalStateException("Sentinel resource " + resource + " did not trip");
  }
}
