package io.giftkit.demo.dashboard;

import io.giftkit.demo.cluster.DemoInstance;
import io.giftkit.demo.cluster.JobLeadership;
import io.giftkit.demo.cluster.MonthTableJob;
import io.giftkit.demo.gifts.PaymentGateway;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/cluster}: this instance, whether it leads the singleton jobs, the payment service's
 * instances discovery knows by site (and those this instance hosts, with their calls), and the month
 * tables' job.
 */
@RestController
public class ClusterController {

  private final DemoInstance instance;
  private final JobLeadership leadership;
  private final PaymentGateway payment;
  private final MonthTableJob tables;

  public ClusterController(DemoInstance instance, JobLeadership leadership, PaymentGateway payment,
      MonthTableJob tables) {
    this.instance = instance;
    this.leadership = leadership;
    this.payment = payment;
    this.tables = tables;
  }

  @GetMapping("/api/cluster")
  public Map<String, Object> cluster() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("instance", instance.id());
    m.put("site", instance.site().name());
    m.put("jobs", leadership.describe());
    m.put("payment", payment.describe());
    m.put("monthTables", tables.describe());
    return m;
  }
}
