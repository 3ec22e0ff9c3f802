package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.cache.TieredCacheCustomizer;
import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.cache.ValueCodec;
import io.giftkit.demo.gifts.GiftEvent;
import io.giftkit.demo.gifts.GiftEventPublisher;
import io.giftkit.demo.gifts.PaymentProvider;
import io.giftkit.demo.gifts.Reconciliation;
import io.giftkit.demo.gifts.Settlement;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.shard.ShardRouter;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The gift system end to end on real services: ten MariaDB databases as shards and one as the
 * control database, Redis for the room cache, the in-JVM KRaft broker; requests over real HTTP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GiftFlowEndToEndTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static final List<String> SHARDS = new ArrayList<>();
  static final String TOPIC = "e2e-gifts-" + Long.toHexString(System.nanoTime());

  @DynamicPropertySource
  static void services(DynamicPropertyRegistry r) {
    r.add("spring.kafka.bootstrap-servers", () -> KafkaBroker.shared().bootstrapServers());
    r.add("spring.datasource.url", MARIADB::jdbcUrl);
    r.add("spring.datasource.username", MARIADB::user);
    r.add("spring.datasource.password", MARIADB::password);
    for (int s = 0; s < 10; s++) {
      int shard = s;
      r.add("giftkit.shard.nodes[" + s + "].primary.url", () -> MARIADB.jdbcUrl(shard(shard)));
      r.add("giftkit.shard.nodes[" + s + "].primary.username", MARIADB::user);
      r.add("giftkit.shard.nodes[" + s + "].primary.password", MARIADB::password);
    }
    r.add("giftkit.cache.redis-url", REDIS::url);
    DemoTestKafka.isolate(r, TOPIC);
    r.add("giftkit.demo.payment.url", () -> MARIADB.jdbcUrl(MARIADB.createDatabase("e2e_payments")));
    r.add("giftkit.demo.payment.username", MARIADB::user);
    r.add("giftkit.demo.payment.password", MARIADB::password);
    r.add("giftkit.demo.payment-recheck.first-delay", () -> "1s");
    r.add("giftkit.demo.payment-recheck.poll-interval", () -> "100ms");
    r.add("giftkit.demo.payment-recheck.retry-delay", () -> "500ms");
  }

  static synchronized String shard(int s) {
    while (SHARDS.size() <= s) {
      SHARDS.add(MARIADB.createDatabase("e2e_shard" + SHARDS.size()));
    }
    return SHARDS.get(s);
  }

  @TestConfiguration
  static class IsolatedCache {
    @Bean
    TieredCacheCustomizer isolatedRoomCache() {
      return (name, b) -> b.keyPrefix(REDIS.key(name)).invalidationChannel(REDIS.key(name + ":invalidate"));
    }
  }

  @LocalServerPort int port;
  @Autowired DataSource control;
  @Autowired GiftkitConsumers consumers;
  @Autowired GiftEventPublisher publisher;
  @Autowired ValueCodec<GiftEvent> events;
  @Autowired PaymentProvider provider;
  @Autowired Reconciliation reconciliation;
  @Autowired ShardRouter router;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (json != null) {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"?([^,\"}]*)").matcher(json);
    assertThat(m.find()).as(name + " in " + json).isTrue();
    return m.group(1);
  }

  private String send(long uid, long room, long gift, int count, String requestId) throws Exception {
    HttpResponse<String> r = call("POST", "/api/gifts", "{\"uid\":" + uid + ",\"roomId\":" + room + ",\"giftId\":"
        + gift + ",\"count\":" + count + ",\"clientRequestId\":\"" + requestId + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private GiftkitConsumer<?, ?> settlement() {
    return consumers.all().stream().filter(c -> c.name().equals("settlement")).findFirst().orElseThrow();
  }

  private long scalar(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long shardCount(int s) throws Exception {
    try (Connection c = MARIADB.newConnection(shard(s)); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + router.table(YearMonth.now(router.zone())))) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** 200 sends, each POST retried twice with its request id, and 20 events published again: the ledger is exact. */
  @Test
  @Order(1)
  void retriedPostsAndDuplicatedEventsSettleExactlyOnce() throws Exception {
    Map<String, String> orderOfRequest = new HashMap<>();
    long expectedAmount = 0;
    long[] prices = {0, 1, 10, 500, 99, 1_000};
    for (int i = 0; i < 200; i++) {
      long uid = 1_000 + i % 50;
      int gift = 1 + i % 5;
      int count = 1 + i % 3;
      String first = send(uid, 1 + i % 4, gift, count, "req-" + i);
      assertThat(field(first, "status")).isEqualTo("PAID");
      assertThat(field(first, "duplicate")).isEqualTo("false");
      for (int retry = 0; retry < 2; retry++) {
        String again = send(uid, 1 + i % 4, gift, count, "req-" + i);
        assertThat(field(again, "orderId")).isEqualTo(field(first, "orderId"));
        assertThat(field(again, "duplicate")).isEqualTo("true");
      }
      orderOfRequest.put("req-" + i, field(first, "orderId"));
      expectedAmount += prices[gift] * count;
    }
    assertThat(orderOfRequest.values()).doesNotHaveDuplicates();
    long total = 0;
    for (int s = 0; s < 10; s++) {
      long n = shardCount(s);
      assertThat(n).as("uids 1000..1049: five per shard, four sends each").isEqualTo(20);
      total += n;
    }
    assertThat(total).isEqualTo(200);

    // Kafka delivers at least once: publish 20 of the events again, and a poison one.
    for (int i = 0; i < 20; i++) {
      publisher.publish(new GiftEvent(Long.parseLong(orderOfRequest.get("req-" + i)), 1_000 + i % 50, 1 + i % 4,
          (1 + i % 4) * 10 + 7, 1 + i % 5, 1 + i % 3, prices[1 + i % 5] * (1 + i % 3), 0));
    }
    publisher.send("poison", "{not a gift event".getBytes(StandardCharsets.UTF_8));
    GiftkitConsumer<?, ?> settlement = settlement();
    await().atMost(Duration.ofSeconds(60)).until(() -> settlement.handled() == 200
        && settlement.duplicates() == 20 && settlement.deadLettered() == 1);
    Settlement.Totals t = Settlement.totals(control);
    assertThat(t.rows()).isEqualTo(200);
    assertThat(t.amount()).isEqualTo(expectedAmount);
    assertThat(t.income()).isEqualTo(expectedAmount);
    assertThat(t.ranking()).isEqualTo(expectedAmount);
  }

  /** A payment timeout leaves the order unknown; the durable re-check finds the charge and settles it. */
  @Test
  @Order(2)
  void aPaymentTimeoutIsSettledByTheRecheck() throws Exception {
    long before = Settlement.totals(control).rows();
    assertThat(call("POST", "/admin/faults", "{\"dependency\":\"payment\",\"latencyMs\":400,\"errorRate\":0}")
        .statusCode()).isEqualTo(200);
    String r = send(7_001, 9, 3, 1, "timeout-1");
    call("DELETE", "/admin/faults", null);
    assertThat(field(r, "status")).isEqualTo("PAYMENT_UNKNOWN");
    await().atMost(Duration.ofSeconds(30)).until(() -> Settlement.totals(control).rows() == before + 1);
    assertThat(field(send(7_001, 9, 3, 1, "timeout-1"), "status")).isEqualTo("PAID");
    assertThat(call("GET", "/api/reconciliation/alerts", null).body()).isEqualTo("[]");
  }

  /**
   * The provider charged but its answer was an error: the order is left PAYMENT_UNKNOWN (an error is
   * not a "no"), and the re-check finds the charge and settles it: no alert, nothing lost.
   */
  @Test
  @Order(3)
  void aChargeWhoseAnswerWasLostIsSettledByTheRecheck() throws Exception {
    long before = Settlement.totals(control).rows();
    assertThat(call("POST", "/admin/faults", "{\"dependency\":\"payment\",\"latencyMs\":0,\"errorRate\":1.0}")
        .statusCode()).isEqualTo(200);
    String r = send(7_002, 9, 5, 1, "charged-then-failed");
    call("DELETE", "/admin/faults", null);
    assertThat(field(r, "status")).isEqualTo("PAYMENT_UNKNOWN");
    await().atMost(Duration.ofSeconds(30)).until(() -> Settlement.totals(control).rows() == before + 1);
    assertThat(field(send(7_002, 9, 5, 1, "charged-then-failed"), "status")).isEqualTo("PAID");
    assertThat(call("GET", "/api/reconciliation/alerts", null).body()).isEqualTo("[]");
  }

  /**
   * A charge still in flight when the re-check gives up: the re-check voids the order at the
   * provider before it decides FAILED, so the late charge is declined, never taken. A charge the
   * provider reports afterwards anyway (a disagreement) raises exactly one alert, however many
   * sweeps see it, on the API and as a metric.
   */
  @Test
  @Order(4)
  void aLateChargeIsDeclinedAndAChargeReportedOnAFailedOrderRaisesOneAlert() throws Exception {
    assertThat(call("POST", "/admin/faults", "{\"dependency\":\"payment\",\"latencyMs\":3000,\"errorRate\":0}")
        .statusCode()).isEqualTo(200);
    String r = send(7_003, 9, 4, 1, "late-charge");
    call("DELETE", "/admin/faults", null); // the charge in flight still waits out its 3 s
    assertThat(field(r, "status")).isEqualTo("PAYMENT_UNKNOWN");
    long orderId = Long.parseLong(field(r, "orderId"));
    await().atMost(Duration.ofSeconds(30)).until(() -> field(send(7_003, 9, 4, 1, "late-charge"), "status")
        .equals("FAILED"));
    await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ofSeconds(3))
        .until(() -> provider.status(orderId) == PaymentProvider.State.VOIDED);
    assertThat(scalar(provider.database(), "SELECT COUNT(*) FROM payment_charge WHERE state = 'CHARGED' AND order_id = "
        + orderId)).as("the late charge was declined").isZero();

    provider.forceCharge(orderId, 7_003, 99); // gift 4 costs 99: only the status disagrees
    java.time.Instant later = java.time.Instant.now().plusSeconds(61);
    assertThat(reconciliation.sweep(later)).as("seen once: not raised yet").isEmpty();
    assertThat(reconciliation.sweep(later)).extracting(Reconciliation.Alert::kind, Reconciliation.Alert::orderId)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("CHARGED_BUT_FAILED", orderId));
    assertThat(reconciliation.sweep(later)).as("raised once, whatever the sweeps").isEmpty();
    assertThat(call("GET", "/api/reconciliation/alerts", null).body()).contains("CHARGED_BUT_FAILED:" + orderId)
        .contains("charged 99 coins at the provider, order FAILED");
    assertThat(call("GET", "/actuator/prometheus", null).body()).contains("giftkit_demo_reconciliation_alerts 1.0");
  }

  /** One room taking most reads becomes hot and is served from process memory. */
  @Test
  @Order(5)
  void aHotRoomIsPromotedToProcessMemory() throws Exception {
    String body = "";
    for (int i = 0; i < 200; i++) {
      body = call("GET", "/api/rooms/" + (i % 5 == 0 ? 2 + i % 7 : 1), null).body();
    }
    assertThat(call("GET", "/api/rooms/1", null).body()).contains("\"servedFromMemory\":true");
    assertThat(call("GET", "/api/rooms/1", null).body()).contains("\"topSenders\":[{");
    java.util.Set<String> series = DeployExampleTest.seriesNames(call("GET", "/actuator/prometheus", null).body());
    assertThat(series).as("exactly the names deploy/ queries (HPA, adapter rules, alert rules, dashboard)")
        .containsAll(DeployExampleTest.metricsUsedByDeploy())
        .contains("giftkit_cache_gets_total", "giftkit_breaker_calls_total", "giftkit_mq_record_age_seconds",
            "giftkit_breaker_failure_ratio");
    HttpResponse<String> readiness = call("GET", "/actuator/health/readiness", null);
    assertThat(readiness.statusCode()).isEqualTo(200);
    assertThat(readiness.body()).as("settlement's consumers are part of readiness").contains("giftkitConsumers")
        .contains("\"settlement\"");
    assertThat(call("GET", "/actuator/health", null).body()).contains("giftkitShards", "giftkitConsumers");
    String dashboard = call("GET", "/api/dashboard", null).body();
    assertThat(dashboard).contains("\"hotRooms\":[{\"", "\"reconciled\":true", "\"name\":\"payment\"",
        "\"name\":\"settlement\"", "\"tiered\":true");
    assertThat(body).isNotEmpty();
  }

  /** Two sites: an event from site b on this (site a) topic, as MirrorMaker would bring it, is not settled here. */
  @Test
  @Order(6)
  void anotherSitesEventIsFilteredNotSettled() throws Exception {
    GiftkitConsumer<?, ?> settlement = settlement();
    long filtered = settlement.filtered();
    long rows = Settlement.totals(control).rows();
    try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> p = new org.apache.kafka.clients.producer.KafkaProducer<>(
        Map.of("bootstrap.servers", KafkaBroker.shared().bootstrapServers()),
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      org.apache.kafka.clients.producer.ProducerRecord<String, byte[]> r = new org.apache.kafka.clients.producer.ProducerRecord<>(
          TOPIC, "777", events.encode(new GiftEvent(777, 1, 1, 17, 1, 1, 1, 0)));
      io.giftkit.mq.SiteHeaders.stamp(r.headers(), io.giftkit.core.Site.of("b"), "room-1");
      p.send(r).get();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> settlement.filtered() == filtered + 1);
    assertThat(Settlement.totals(control).rows()).isEqualTo(rows);
  }

  @Test
  @Order(7)
  void badSendsAreRejectedNamingTheField() throws Exception {
    HttpResponse<String> r = call("POST", "/api/gifts",
        "{\"uid\":1,\"roomId\":1,\"giftId\":99,\"count\":1,\"clientRequestId\":\"x\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("giftId must be a gift of the catalogue, but was 99");
    r = call("POST", "/api/gifts", "{\"uid\":1,\"roomId\":1,\"giftId\":1,\"count\":0,\"clientRequestId\":\"x\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("count must be in [1, 9999], but was 0");
    r = call("POST", "/api/gifts", "{\"uid\":1,\"roomId\":1,\"giftId\":1,\"count\":1}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("clientRequestId must not be blank, but was null");
  }

  /**
   * An event as GiftKit's earlier hand-written codec wrote it (still in an outbox row or on the topic
   * when the new version starts) is settled by the new one, which decodes with Boot's JsonMapper.
   */
  @Test
  @Order(8)
  void anEventInTheEarlierCodecsTextIsSettled() throws Exception {
    long rows = Settlement.totals(control).rows();
    long orderId = 4_611_686_018_427_387_905L;
    publisher.send(Long.toString(orderId), WireFormatTest.EARLIER_EVENT.getBytes(StandardCharsets.UTF_8));
    await().atMost(Duration.ofSeconds(30)).until(() -> Settlement.totals(control).rows() == rows + 1);
    assertThat(scalar(control, "SELECT amount FROM gift_ledger WHERE order_id = " + orderId)).isEqualTo(30);
    assertThat(scalar(control, "SELECT streamer_uid FROM gift_ledger WHERE order_id = " + orderId)).isEqualTo(37);
    assertThat(scalar(control, "SELECT uid FROM gift_ledger WHERE order_id = " + orderId)).isEqualTo(1001);
  }
}
