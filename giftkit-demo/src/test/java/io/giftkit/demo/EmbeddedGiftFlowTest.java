package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.SendGift;
import io.giftkit.demo.gifts.Settlement;
import io.giftkit.demo.rooms.RoomDirectory;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The embedded default as the README's demo command runs it: H2 in MySQL mode for the ten shards
 * and the control database, no Redis (pointed at a closed port: rooms cached in memory only).
 */
@SpringBootTest
@DirtiesContext
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class EmbeddedGiftFlowTest {

  static final String TOPIC = "embedded-gifts-" + Long.toHexString(System.nanoTime());

  @DynamicPropertySource
  static void services(DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
    r.add("giftkit.cache.redis-url", () -> "redis://127.0.0.1:1");
    DemoTestKafka.isolate(r, TOPIC);
  }

  @Autowired GiftOrderService orders;
  @Autowired DataSource control;
  @Autowired RoomDirectory rooms;
  @Autowired io.giftkit.demo.panel.GiftCatalog catalog;
  @Autowired io.giftkit.demo.panel.CatalogSource catalogSource;

  @Autowired io.giftkit.demo.gifts.PaymentGateway payment;
  @Autowired io.giftkit.demo.gifts.PaymentInstances paymentInstances;
  @Autowired io.giftkit.demo.cluster.JobLeadership leadership;

  @Test
  void withoutEtcdThePaymentInstancesAreAStaticListLocalSiteFirstAndWarningsNameWhatIsMissing(
      org.springframework.boot.test.system.CapturedOutput output) {
    assertThat(output.getAll()).contains("no etcd (giftkit.coord.endpoints is not set): the singleton jobs")
        .contains("no etcd (giftkit.coord.endpoints is not set): the payment instances [pay-a-1, pay-a-2, pay-b-1]"
            + " are a static list");
    assertThat(leadership.mode()).isEqualTo("in-process");
    assertThat(leadership.isLeader()).as("alone, it runs the singleton jobs").isTrue();
    assertThat(payment.describe()).containsEntry("discovery", "static");
    java.util.Map<String, Long> before = payment.callsBySite();
    try {
      for (int i = 0; i < 4; i++) {
        assertThat(orders.send(new SendGift(6_000L + i, 3L, 2L, 1, "static-a-" + i)).status()).isEqualTo("PAID");
      }
      assertThat(payment.callsBySite().get("a")).isEqualTo(before.getOrDefault("a", 0L) + 4);
      assertThat(payment.callsBySite().getOrDefault("b", 0L)).isEqualTo(before.getOrDefault("b", 0L));
      paymentInstances.down("pay-a-1");
      paymentInstances.down("pay-a-2");
      for (int i = 0; i < 4; i++) {
        assertThat(orders.send(new SendGift(6_100L + i, 3L, 2L, 1, "static-b-" + i)).status()).isEqualTo("PAID");
      }
      assertThat(payment.callsBySite().get("b")).as("the other site's, with the local ones down")
          .isEqualTo(before.getOrDefault("b", 0L) + 4);
      assertThat(payment.skipped()).as("each call tried a local instance first").isGreaterThanOrEqualTo(4);
    } finally {
      paymentInstances.up("pay-a-1");
      paymentInstances.up("pay-a-2");
    }
  }

  @Test
  void theCatalogueIsPreloadedAndRefreshed() {
    assertThat(catalog.find(5)).isPresent();
    java.util.List<io.giftkit.demo.panel.Gift> original = catalogSource.load();
    try {
      java.util.List<io.giftkit.demo.panel.Gift> next = new java.util.ArrayList<>(original);
      next.add(new io.giftkit.demo.panel.Gift(6, "castle", 5_000));
      catalogSource.replace(next);
      assertThat(catalog.find(6)).as("served from memory until the next refresh").isEmpty();
      catalog.refresh();
      assertThat(catalog.find(6)).isPresent();
      assertThat(catalog.forRoom(1)).hasSize(6);
    } finally {
      catalogSource.replace(original);
      catalog.refresh();
    }
  }

  @Test
  void giftsAreOrderedSettledOnceAndRoomsServedWithoutRedis() throws Exception {
    long before = Settlement.totals(control).rows();
    for (int i = 0; i < 30; i++) {
      SendGift send = new SendGift(5_000L + i, 3L, 2L, 1, "embedded-" + i);
      GiftOrderService.Result first = orders.send(send);
      assertThat(first.status()).isEqualTo("PAID");
      assertThat(orders.send(send).orderId()).as("a retried send").isEqualTo(first.orderId());
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> Settlement.totals(control).rows() == before + 30);
    Settlement.Totals t = Settlement.totals(control);
    assertThat(t.amount()).isEqualTo(t.income()).isEqualTo(t.ranking());
    assertThat(rooms.tieredCache()).as("no Redis: memory only").isFalse();
    assertThat(rooms.info(3).topSenders()).isNotEmpty();
    assertThat(rooms.inMemory(3)).isTrue();
  }
}
