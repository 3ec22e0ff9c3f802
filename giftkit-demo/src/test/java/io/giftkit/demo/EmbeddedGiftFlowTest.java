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
