package io.giftkit.demo.faults;

import io.giftkit.core.Checks;
import java.time.Duration;

/**
 * A fault injected into a simulated dependency: added latency, and a share of calls that fail.
 *
 * @param latency added to every call; zero for none
 * @param errorRate share of calls that throw, in [0, 1]
 */
public record Fault(Duration latency, double errorRate) {

  /** No fault. */
  public static final Fault NONE = new Fault(Duration.ZERO, 0);

  public Fault {
    Checks.requireNonNegative("latency", latency);
    Checks.requireInRange("errorRate", errorRate, 0, true, 1, true);
  }
}
