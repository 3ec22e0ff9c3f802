package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The gift panel over real HTTP: fresh while the privileged service answers, still served (cached
 * per uid, or defaulted) and within the budget while it is slow or failing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
// Closed after the class, while the shared in-JVM broker is still up: a context left for the JVM's
// shutdown hooks closes its Kafka clients against a broker stopping at the same time, which can
// outlast surefire's fork exit timeout (the "Error occurred in starting fork" seen in CI).
@org.springframework.test.annotation.DirtiesContext
class PanelEndToEndTest {

  @org.springframework.test.context.DynamicPropertySource
  static void kafka(org.springframework.test.context.DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @LocalServerPort int port;

  private HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (body != null) {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @AfterEach
  void clearFaults() throws Exception {
    send("DELETE", "/admin/faults", null);
  }

  @Test
  void panelIsFreshWhenThePrivilegedServiceAnswers() throws Exception {
    HttpResponse<String> r = send("GET", "/api/rooms/42/panel?uid=1001", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"roomId\":42", "\"rocket\"", "\"privilegedSource\":\"FRESH\"", "privilege-");
  }

  @Test
  void aSlowPrivilegedServiceStillGivesEveryUserAPanelWithinTheBudget() throws Exception {
    assertThat(send("GET", "/api/rooms/42/panel?uid=2002", null).body()).contains("\"privilegedSource\":\"FRESH\"");
    HttpResponse<String> fault = send("POST", "/admin/faults",
        "{\"dependency\":\"privileged-gifts\",\"latencyMs\":200,\"errorRate\":0}");
    assertThat(fault.statusCode()).isEqualTo(200);

    long start = System.nanoTime();
    HttpResponse<String> known = send("GET", "/api/rooms/42/panel?uid=2002", null);
    long elapsedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();
    assertThat(known.statusCode()).isEqualTo(200);
    assertThat(known.body()).contains("\"privilegedSource\":\"CACHED\"", "\"privilegedOutcome\":\"TIMEOUT\"",
        "privilege-", "\"rocket\"");
    assertThat(elapsedMs).as("answered at the budget, not after the 200 ms call").isLessThan(200);

    HttpResponse<String> unknown = send("GET", "/api/rooms/42/panel?uid=2003", null);
    assertThat(unknown.body()).contains("\"privilegedSource\":\"DEFAULT\"", "\"privileged\":[]", "\"rocket\"");
  }

  @Test
  void failuresAreServedFromTheLastGoodValue() throws Exception {
    send("GET", "/api/rooms/7/panel?uid=3003", null);
    send("POST", "/admin/faults", "{\"dependency\":\"privileged-gifts\",\"latencyMs\":0,\"errorRate\":1.0}");
    HttpResponse<String> r = send("GET", "/api/rooms/7/panel?uid=3003", null);
    assertThat(r.body()).contains("\"privilegedSource\":\"CACHED\"", "\"privilegedOutcome\":\"FAILURE\"");
    send("DELETE", "/admin/faults", null);
    assertThat(send("GET", "/api/rooms/7/panel?uid=3003", null).body()).contains("\"privilegedSource\":\"FRESH\"");
  }

  @Test
  void badInputIsA400NamingTheParameter() throws Exception {
    HttpResponse<String> r = send("GET", "/api/rooms/0/panel?uid=1", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("roomId must be > 0, but was 0");
    HttpResponse<String> fault = send("POST", "/admin/faults",
        "{\"dependency\":\"nope\",\"latencyMs\":0,\"errorRate\":0.5}");
    assertThat(fault.statusCode()).isEqualTo(400);
    assertThat(fault.body()).contains("dependency must be one of [payment, payment-decline, privileged-gifts], but was \\\"nope\\\"");
    HttpResponse<String> rate = send("POST", "/admin/faults",
        "{\"dependency\":\"payment\",\"latencyMs\":0,\"errorRate\":1.5}");
    assertThat(rate.statusCode()).isEqualTo(400);
    assertThat(rate.body()).contains("errorRate must be in [0, 1], but was 1.5");
  }

  @Test
  void theGiftkitEndpointShowsTheBreaker() throws Exception {
    send("GET", "/api/rooms/1/panel?uid=1", null);
    HttpResponse<String> r = send("GET", "/actuator/giftkit", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"site\":\"a\"", "\"privileged-gifts\"", "\"state\":\"CLOSED\"");
  }
}
