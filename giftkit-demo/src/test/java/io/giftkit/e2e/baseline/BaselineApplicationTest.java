package io.giftkit.e2e.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The end-to-end run's baseline does the demo's work, checked on real MariaDB, Redis and Kafka:
 * sends are PAID with one order row each, a retried request id returns the same order, every PAID
 * order reaches the ledger exactly once with the streamer's income, the charge is recorded at the
 * provider, the re-check row is gone, and the room and panel answer in the demo's JSON shape. A
 * faster baseline that skipped any of that would make the ratio in the report meaningless.
 */
@SpringBootTest(classes = BaselineApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "management.endpoint.health.group.readiness.include=readinessState")
@DirtiesContext
class BaselineApplicationTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static final String PREFIX = "gk_base_" + Long.toHexString(System.nanoTime()) + "_";

  @DynamicPropertySource
  static void environment(DynamicPropertyRegistry r) {
    for (int s = 0; s < 10; s++) {
      int shard = s;
      r.add("GIFTKIT_SHARD_" + s + "_URL",
          () -> MARIADB.serverUrl() + PREFIX + "shard_" + shard + "?createDatabaseIfNotExist=true");
    }
    r.add("GIFTKIT_CONTROL_URL", () -> MARIADB.serverUrl() + PREFIX + "control?createDatabaseIfNotExist=true");
    r.add("GIFTKIT_PAYMENT_URL", () -> MARIADB.serverUrl() + PREFIX + "payments?createDatabaseIfNotExist=true");
    r.add("GIFTKIT_DB_USER", MARIADB::user);
    r.add("GIFTKIT_DB_PASSWORD", MARIADB::password);
    r.add("GIFTKIT_REDIS_URL", REDIS::url);
    r.add("KAFKA_BOOTSTRAP", () -> KafkaBroker.shared().bootstrapServers());
    r.add("BASELINE_TOPIC", () -> KafkaBroker.shared().createTopic("baseline-gifts", 3));
  }

  @AfterAll
  static void drop() throws Exception {
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement()) {
      for (int i = 0; i < 10; i++) {
        s.execute("DROP DATABASE IF EXISTS " + PREFIX + "shard_" + i);
      }
      s.execute("DROP DATABASE IF EXISTS " + PREFIX + "control");
      s.execute("DROP DATABASE IF EXISTS " + PREFIX + "payments");
    }
  }

  @Value("${local.server.port}") int port;
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void sendsArePaidSettledOnceAndRetriesReturnTheSameOrder() throws Exception {
    Set<Long> orders = new HashSet<>();
    long amount = 0;
    for (int i = 0; i < 40; i++) {
      long uid = 1_000 + i;
      int giftId = 1 + i % 5;
      String body = "{\"uid\":" + uid + ",\"roomId\":" + (1 + i % 3) + ",\"giftId\":" + giftId + ",\"count\":2,"
          + "\"clientRequestId\":\"r-" + i + "\"}";
      String first = post(body);
      assertThat(first).contains("\"status\":\"PAID\"", "\"duplicate\":false");
      long orderId = Long.parseLong(first.replaceAll(".*\"orderId\":(\\d+).*", "$1"));
      assertThat(orders.add(orderId)).as("a new order id").isTrue();
      amount += 2 * BaselineGifts.gift(giftId).orElseThrow().price();
      if (i % 10 == 0) {
        assertThat(post(body)).as("a retried request id returns the same order")
            .contains("\"orderId\":" + orderId, "\"duplicate\":true", "\"status\":\"PAID\"");
      }
    }
    long expected = amount;
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(count(PREFIX + "control", "SELECT COUNT(*) FROM gift_ledger")).isEqualTo(40);
      assertThat(count(PREFIX + "control", "SELECT SUM(total) FROM streamer_income")).isEqualTo(expected);
      assertThat(count(PREFIX + "control", "SELECT SUM(total) FROM room_ranking")).isEqualTo(expected);
    });
    long paidRows = 0;
    long rechecks = 0;
    for (int s = 0; s < 10; s++) {
      String db = PREFIX + "shard_" + s;
      rechecks += count(db, "SELECT COUNT(*) FROM order_recheck");
      try (Connection c = MARIADB.newConnection(db); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SHOW TABLES LIKE 'gift\\_order\\_%'")) {
        while (rs.next()) {
          paidRows += count(db, "SELECT COUNT(*) FROM " + rs.getString(1) + " WHERE status = 'PAID'");
        }
      }
    }
    assertThat(paidRows).as("one PAID order row per send").isEqualTo(40);
    assertThat(rechecks).as("each paid order's re-check is deleted with it").isZero();
    assertThat(count(PREFIX + "payments", "SELECT COUNT(*) FROM payment_charge WHERE state = 'CHARGED'")).isEqualTo(40);
    assertThat(count(PREFIX + "control", "SELECT COUNT(*) FROM gift_ledger WHERE order_id IN ("
        + String.join(",", orders.stream().map(String::valueOf).toList()) + ")")).isEqualTo(40);

    assertThat(get("/api/rooms/1")).contains("\"roomId\":1", "\"streamerUid\":17", "\"servedFromMemory\":false");
    assertThat(get("/api/rooms/1")).contains("\"servedFromMemory\":true");
    assertThat(get("/api/rooms/2/panel?uid=5")).contains("\"gifts\":[", "\"privileged\":[", "\"privilegedSource\":\"FRESH\"");
  }

  @Test
  void aSendWithoutARequestIdIsRefusedNamingIt() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/gifts"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"uid\":1,\"roomId\":1,\"giftId\":1,\"count\":1}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("clientRequestId=null");
  }

  private String post(String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/gifts"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private static long count(String db, String sql) throws Exception {
    try (Connection c = MARIADB.newConnection(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
