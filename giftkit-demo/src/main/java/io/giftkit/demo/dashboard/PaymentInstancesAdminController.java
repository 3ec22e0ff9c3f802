package io.giftkit.demo.dashboard;

import io.giftkit.demo.gifts.PaymentInstances;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * Takes the simulated payment instances this demo instance hosts down and up:
 * {@code POST /admin/payment-instances/{name}/down} (it stops answering and is deregistered, so the
 * callers' discovery moves to the next instance, the other site's once the local ones are all down)
 * and {@code .../up}. Present only when {@code giftkit.demo.admin-enabled=true}.
 */
@RestController
@RequestMapping("/admin/payment-instances")
@ConditionalOnProperty(name = "giftkit.demo.admin-enabled", havingValue = "true")
public class PaymentInstancesAdminController {

  private final PaymentInstances instances;

  public PaymentInstancesAdminController(PaymentInstances instances) {
    this.instances = instances;
  }

  @PostMapping("/{name}/down")
  public List<Map<String, Object>> down(@PathVariable("name") String name) {
    instances.down(name);
    return instances.describe();
  }

  @PostMapping("/{name}/up")
  public List<Map<String, Object>> up(@PathVariable("name") String name) {
    instances.up(name);
    return instances.describe();
  }

  @ExceptionHandler(IllegalArgumentException.class)
  @ResponseStatus(HttpStatus.NOT_FOUND)
  public Map<String, String> unknown(IllegalArgumentException e) {
    return Map.of("error", e.getMessage());
  }
}
