package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.Leader;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistry;
import io.giftkit.coord.ServiceResolver;
import io.giftkit.core.Site;
import io.giftkit.demo.cluster.DemoInstance;
import io.giftkit.demo.cluster.JobLeadership;
import io.giftkit.demo.cluster.MonthTableJob;
import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.PaymentGateway;
import io.giftkit.demo.gifts.PaymentInstances;
import io.giftkit.demo.gifts.Reconciliation;
import io.giftkit.demo.gifts.SendGift;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ProcessRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The demo on a real etcd (one member of the test's own): it registers itself and the simulated
 * payment instances it hosts, calls the payment instance its discovery finds (local site first; with
 * the local ones down, the other site's), and runs its singleton jobs only on the elected instance,
 * which a second instance takes over when the first stops. Two demo instances run as two application
 * contexts in this JVM, on the same (H2) databases and Kafka broker.
 */
class CoordinatedDemoTest {

  static final String RUN = Long.toHexString(System.nanoTime());
  static final String NAMESPACE = "demo-" + RUN + "/";
  static final String TOPIC = "coord-gifts-" + RUN;

  static ProcessRegistry processes;
  static EtcdCluster etcd;
  static Path dir;

  @BeforeAll
  static void startEtcd() throws Exception {
    dir = Files.createTempDirectory("giftkit-demo-etcd");
    processes = new ProcessRegistry();
    etcd = new EtcdCluster(processes, dir, 1);
    etcd.start(Duration.ofSeconds(30));
  }

  @AfterAll
  static void stopEtcd() {
    if (processes != null) {
      processes.close();
    }
  }

  private static ConfigurableApplicationContext start(String instanceId, String paymentInstances) {
    List<String> args = new ArrayList<>(List.of(
        "--server.port=0",
        "--spring.kafka.bootstrap-servers=" + KafkaBroker.shared().bootstrapServers(),
        "--giftkit.cache.redis-url=redis://127.0.0.1:1",
        "--giftkit.demo.gift-topic=" + TOPIC,
        "--giftkit.demo.payment.url=jdbc:h2:mem:payments_coord_" + RUN + ";MODE=MySQL;DB_CLOSE_DELAY=-1",
        "--giftkit.mq.consumers.settlement.topics=" + TOPIC,
        "--giftkit.mq.consumers.settlement.group-id=settlement-" + TOPIC,
        "--giftkit.coord.endpoints=" + etcd.clientUrl(0),
        "--giftkit.coord.namespace=" + NAMESPACE,
        "--giftkit.coord.lease-ttl=2s",
        "--giftkit.coord.registration.enabled=true",
        "--giftkit.coord.registration.address=127.0.0.1:" + (18_000 + Math.floorMod(instanceId.hashCode(), 1000)),
        "--giftkit.coord.registration.instance-id=" + instanceId,
        "--giftkit.demo.instance-id=" + instanceId,
        "--giftkit.demo.payment.instances=" + paymentInstances,
        "--giftkit.demo.reconcile.interval=300ms"));
    return new SpringApplicationBuilder(GiftDemoApplication.class).run(args.toArray(String[]::new));
  }

  private static int port(ConfigurableApplicationContext c) {
    return ((WebServerApplicationContext) c).getWebServer().getPort();
  }

  private static void post(ConfigurableApplicationContext c, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port(c) + path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
  }

  private static Map<String, Long> sendAndCount(ConfigurableApplicationContext c, int n, long uidBase) {
    GiftOrderService orders = c.getBean(GiftOrderService.class);
    PaymentGateway gateway = c.getBean(PaymentGateway.class);
    Map<String, Long> before = gateway.callsBySite();
    for (int i = 0; i < n; i++) {
      assertThat(orders.send(new SendGift(uidBase + i, 1L, 2L, 1, "coord-" + RUN + "-" + uidBase + "-" + i)).status())
          .isEqualTo("PAID");
    }
    Map<String, Long> after = new java.util.LinkedHashMap<>(gateway.callsBySite());
    after.replaceAll((site, count) -> count - before.getOrDefault(site, 0L));
    after.values().removeIf(count -> count == 0); // sites that answered none of these calls
    return after;
  }

  @Test
  void registersItselfCallsTheLocalPaymentInstancesAndFailsOverToTheOtherSite() throws Exception {
    try (ConfigurableApplicationContext app = start("demo-a-1", "a:pay-a-1,a:pay-a-2,b:pay-b-1");
        Client raw = Client.builder().endpoints(etcd.clientUrl(0)).build();
        ServiceResolver demos = ServiceResolver.builder(raw, "gift-demo", Site.of("a"))
            .keyPrefix(NAMESPACE + ServiceRegistry.DEFAULT_KEY_PREFIX).start();
        ServiceResolver payments = ServiceResolver.builder(raw, "payment", Site.of("a"))
            .keyPrefix(NAMESPACE + ServiceRegistry.DEFAULT_KEY_PREFIX).start()) {
      assertThat(demos.instances().get(Site.of("a"))).as("the demo registered itself in its site")
          .extracting(ServiceInstance::instanceId).containsExactly("demo-a-1");
      assertThat(payments.instances().get(Site.of("a"))).extracting(ServiceInstance::instanceId)
          .containsExactly("pay-a-1.demo-a-1", "pay-a-2.demo-a-1");
      assertThat(payments.instances().get(Site.of("b"))).extracting(ServiceInstance::instanceId)
          .containsExactly("pay-b-1.demo-a-1");

      assertThat(sendAndCount(app, 20, 41_000)).as("local site only while it has instances")
          .containsEntry("a", 20L).doesNotContainKey("b");
      PaymentInstances hosted = app.getBean(PaymentInstances.class);
      assertThat(hosted.hosted()).extracting(PaymentInstances.Hosted::calls).containsExactly(10L, 10L, 0L);

      post(app, "/admin/payment-instances/pay-a-1/down");
      post(app, "/admin/payment-instances/pay-a-2/down");
      await().atMost(Duration.ofSeconds(10)).until(() -> !payments.instances().containsKey(Site.of("a")));
      PaymentGateway gateway = app.getBean(PaymentGateway.class);
      await().atMost(Duration.ofSeconds(10)).until(() -> gateway.localInstances().isEmpty());
      assertThat(sendAndCount(app, 20, 42_000)).as("the other site's instance once the local ones are gone")
          .containsEntry("b", 20L).doesNotContainKey("a");
      assertThat(hosted.hosted()).extracting(PaymentInstances.Hosted::calls).containsExactly(10L, 10L, 20L);

      post(app, "/admin/payment-instances/pay-a-1/up");
      await().atMost(Duration.ofSeconds(10)).until(() -> gateway.localInstances().size() == 1);
      assertThat(sendAndCount(app, 10, 43_000)).as("back to the local site").containsEntry("a", 10L)
          .doesNotContainKey("b");
      assertThat(payments.instances().get(Site.of("a"))).extracting(ServiceInstance::instanceId)
          .containsExactly("pay-a-1.demo-a-1");
    }
  }

  @Test
  void onlyTheElectedInstanceRunsTheSingletonJobsAndAnotherTakesOverWhenItStops() throws Exception {
    ConfigurableApplicationContext first = start("demo-a-2", "a:pay-a-9");
    ConfigurableApplicationContext second = null;
    try (Client raw = Client.builder().endpoints(etcd.clientUrl(0)).build()) {
      EtcdElections elections = EtcdElections.builder(raw)
          .keyPrefix(NAMESPACE + EtcdElections.DEFAULT_KEY_PREFIX).build();
      await().atMost(Duration.ofSeconds(15)).until(() -> first.getBean(JobLeadership.class).isLeader());
      assertThat(elections.leader("gift-demo-jobs").map(Leader::value)).contains("demo-a-2");
      await().atMost(Duration.ofSeconds(15)).until(() -> first.getBean(MonthTableJob.class).leaderRuns() >= 1);

      second = start("demo-a-3", "");
      Reconciliation firstSweeps = first.getBean(Reconciliation.class);
      Reconciliation secondSweeps = second.getBean(Reconciliation.class);
      long firstBefore = firstSweeps.scheduledSweeps();
      // three of the leader's sweeps (300 ms apart) go by with the second instance up: it runs none
      await().atMost(Duration.ofSeconds(15)).until(() -> firstSweeps.scheduledSweeps() >= firstBefore + 3);
      assertThat(secondSweeps.scheduledSweeps()).isZero();
      assertThat(second.getBean(JobLeadership.class).isLeader()).isFalse();
      assertThat(second.getBean(MonthTableJob.class).leaderRuns()).isZero();
      assertThat(second.getBean(DemoInstance.class).id()).isEqualTo("demo-a-3");
      // the second instance hosts no payment instance: it calls the first one's, found through etcd
      assertThat(sendAndCount(second, 5, 44_000)).containsEntry("a", 5L);

      first.close(); // resigns on shutdown
      JobLeadership secondLeadership = second.getBean(JobLeadership.class);
      await().atMost(Duration.ofSeconds(15)).until(secondLeadership::isLeader);
      assertThat(elections.leader("gift-demo-jobs").map(Leader::value)).contains("demo-a-3");
      Optional<Long> token = secondLeadership.token();
      assertThat(token).isPresent();
      ConfigurableApplicationContext s = second;
      await().atMost(Duration.ofSeconds(15)).until(() -> s.getBean(Reconciliation.class).scheduledSweeps() >= 2
          && s.getBean(MonthTableJob.class).leaderRuns() >= 1);
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }
}
