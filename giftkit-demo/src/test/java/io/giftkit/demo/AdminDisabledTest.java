package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Fault injection exists only when a property enables it. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "giftkit.demo.admin-enabled=false")
// Closed after the class, while the shared in-JVM broker is still up: a context left for the JVM's
// shutdown hooks closes its Kafka clients against a broker stopping at the same time, which can
// outlast surefire's fork exit timeout (the "Error occurred in starting fork" seen in CI).
@org.springframework.test.annotation.DirtiesContext
class AdminDisabledTest {

  @org.springframework.test.context.DynamicPropertySource
  static void kafka(org.springframework.test.context.DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
  }

  @LocalServerPort int port;

  @Test
  void adminEndpointsAreAbsent() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/faults"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"dependency\":\"payment\",\"latencyMs\":1,\"errorRate\":0}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isIn(404, 405);
  }
}
