package io.giftkit.demo.faults;

import java.time.Duration;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Fault injection: {@code POST /admin/faults} sets latency and error rate of a simulated
 * dependency, {@code DELETE /admin/faults} clears them. Present only when
 * {@code giftkit.demo.admin-enabled=true}.
 */
@RestController
@RequestMapping("/admin/faults")
@ConditionalOnProperty(name = "giftkit.demo.admin-enabled", havingValue = "true")
public class AdminController {

  private final FaultInjector faults;

  public AdminController(FaultInjector faults) {
    this.faults = faults;
  }

  /**
   * A fault request.
   *
   * @param dependency {@code privileged-gifts} or {@code payment}
   * @param latencyMs added latency in milliseconds
   * @param errorRate share of failing calls, in [0, 1]
   */
  public record FaultRequest(String dependency, long latencyMs, double errorRate) {}

  @PostMapping
  public Map<String, Fault> set(@RequestBody FaultRequest request) {
    faults.set(request.dependency(), new Fault(Duration.ofMillis(request.latencyMs()), request.errorRate()));
    return faults.current();
  }

  @DeleteMapping
  public Map<String, Fault> clear() {
    faults.clear();
    return faults.current();
  }

  @GetMapping
  public Map<String, Fault> current() {
    return faults.current();
  }
}
