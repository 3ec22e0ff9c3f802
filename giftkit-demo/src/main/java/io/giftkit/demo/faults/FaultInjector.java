package io.giftkit.demo.faults;

import io.giftkit.core.Checks;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.stereotype.Component;

/** Holds the faults injected into each simulated dependency. Thread-safe. */
@Component
public class FaultInjector {

  /** The simulated dependencies faults can be injected into. */
  public static final Set<String> DEPENDENCIES = Set.of("privileged-gifts", "payment", "payment-decline");

  private final Map<String, Fault> faults = new ConcurrentHashMap<>();

  /**
   * Sets the fault of a dependency.
   *
   * @param dependency one of {@link #DEPENDENCIES}
   * @param fault the fault
   */
  public void set(String dependency, Fault fault) {
    if (!DEPENDENCIES.contains(dependency)) {
      throw Checks.invalid("dependency", "must be one of " + new java.util.TreeSet<>(DEPENDENCIES), "\"" + dependency + "\"");
    }
    faults.put(dependency, fault);
  }

  /** Clears every fault. */
  public void clear() {
    faults.clear();
  }

  /** @return the faults in force, by dependency */
  public Map<String, Fault> current() {
    return new TreeMap<>(faults);
  }

  /**
   * Applies the dependency's fault to the calling thread: sleeps the latency, then throws for the
   * failing share of calls.
   *
   * @param dependency the dependency being called
   * @throws SimulatedFailureException for the failing share
   */
  public void apply(String dependency) {
    delay(dependency);
    maybeFail(dependency);
  }

  /**
   * Applies the dependency's injected latency only (a request slow to reach a remote service).
   *
   * @param dependency the dependency being called
   * @throws SimulatedFailureException if interrupted while waiting
   */
  public void delay(String dependency) {
    Fault fault = faults.getOrDefault(dependency, Fault.NONE);
    if (!fault.latency().isZero()) {
      try {
        Thread.sleep(fault.latency().toMillis()); // the simulated dependency is slow: that is the point
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SimulatedFailureException(dependency + " call interrupted");
      }
    }
  }

  /**
   * Rolls the dependency's error rate without throwing (e.g. {@code payment-decline}: the share of
   * charges the provider declines with a clean "no").
   *
   * @param dependency the dependency
   * @return true for the failing share of calls
   */
  public boolean triggered(String dependency) {
    Fault fault = faults.getOrDefault(dependency, Fault.NONE);
    return fault.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < fault.errorRate();
  }

  /**
   * Throws for the failing share of calls (the answer of a remote service that failed, or was lost).
   *
   * @param dependency the dependency being called
   * @throws SimulatedFailureException for the failing share
   */
  public void maybeFail(String dependency) {
    Fault fault = faults.getOrDefault(dependency, Fault.NONE);
    if (fault.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < fault.errorRate()) {
      throw new SimulatedFailureException(dependency + " failed (injected fault)");
    }
  }

  /** A failure injected into a simulated dependency. */
  public static final class SimulatedFailureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SimulatedFailureException(String message) {
      super(message, null, false, false);
    }
  }
}
