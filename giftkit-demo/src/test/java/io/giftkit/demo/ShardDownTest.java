package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * One shard's database is down from the start (its node points at a closed port): the application
 * still starts, sends of users on the other nine shards are PAID, and sends of the down shard's
 * users fail fast with a 503 naming the shard — the first within the pool's timeout, the next ones
 * at once.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class ShardDownTest {

  static final String RUN = Long.toHexString(System.nanoTime());

  @DynamicPropertySource
  static void services(DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
    r.add("spring.datasource.url", () -> "jdbc:h2:mem:down_control_" + RUN + ";MODE=MySQL;DB_CLOSE_DELAY=-1");
    for (int s = 0; s < 10; s++) {
      int shard = s;
      r.add("giftkit.shard.nodes[" + s + "].primary.url", () -> shard == 3
          ? "jdbc:mariadb://127.0.0.1:1/gifts?connectTimeout=200"
          : "jdbc:h2:mem:down_shard" + shard + "_" + RUN + ";MODE=MySQL;DB_CLOSE_DELAY=-1");
    }
    r.add("giftkit.cache.redis-url", () -> "redis://127.0.0.1:1");
    DemoTestKafka.isolate(r, "down-gifts-" + RUN);
  }

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> send(long uid, String requestId) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/gifts"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString("{\"uid\":" + uid + ",\"roomId\":1,\"giftId\":2,\"count\":1,"
            + "\"clientRequestId\":\"" + requestId + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void sendsOfHealthyShardsArePaidWhileTheDownShardsFailFastNamingIt() throws Exception {
    for (long uid = 100; uid < 110; uid++) {
      if (uid % 10 != 3) {
        HttpResponse<String> r = send(uid, "healthy-" + uid);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"status\":\"PAID\"");
      }
    }
    HttpResponse<String> first = send(103, "down-1");
    assertThat(first.statusCode()).isEqualTo(503);
    assertThat(first.headers().firstValue("Retry-After")).contains("5");
    assertThat(first.body()).contains("shard 3 is unavailable; sends of users on other shards are unaffected")
        .contains("\"shard\":3").contains("127.0.0.1:1");
    long start = System.nanoTime();
    HttpResponse<String> next = send(113, "down-2");
    assertThat(next.statusCode()).isEqualTo(503);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("right after a failure: no pool wait")
        .isLessThan(Duration.ofMillis(500));
    assertThat(send(104, "healthy-again").statusCode()).as("the other shards still serve").isEqualTo(200);
  }
}
