package io.giftkit.benchmarks.e2e;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The request mix of the demo's scenario: 45 % gift panels, 25 % room reads, 30 % gift sends (each
 * with a unique client request id; 5 % of sends are sent twice, as a client retry would), over
 * 20,000 users and 501 rooms of which room 1 takes half of the room traffic.
 */
final class GiftMix {

  /** What a request is, for the histograms. */
  enum Kind { SEND, PANEL, ROOM }

  /** One request to fire, and whether it is a client retry of the previous send. */
  record Request(Kind kind, HttpRequest http) {}

  private static final int USERS = 20_000;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String[] bases;

  /**
   * @param targets one base URL, or several separated by commas (each request goes to one of them at
   *     random: instances behind a client-side balancer)
   */
  GiftMix(String targets) {
    this.bases = java.util.Arrays.stream(targets.split(",")).map(String::strip)
        .map(b -> b.endsWith("/") ? b.substring(0, b.length() - 1) : b).toArray(String[]::new);
  }

  /**
   * @return the next request (or two: a send and its retry, same body) of the mix
   */
  Request[] next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String base = bases[r.nextInt(bases.length)];
    long uid = 1 + r.nextInt(USERS);
    long room = r.nextBoolean() ? 1 : 2 + r.nextInt(500);
    int action = r.nextInt(100);
    if (action < 45) {
      return new Request[] {new Request(Kind.PANEL, get(base, "/api/rooms/" + room + "/panel?uid=" + uid))};
    }
    if (action < 70) {
      return new Request[] {new Request(Kind.ROOM, get(base, "/api/rooms/" + room))};
    }
    String body = "{\"uid\":" + uid + ",\"roomId\":" + room + ",\"giftId\":" + (1 + r.nextInt(5))
        + ",\"count\":" + (1 + r.nextInt(3)) + ",\"clientRequestId\":\"" + UUID.randomUUID() + "\"}";
    Request send = new Request(Kind.SEND, HttpRequest.newBuilder(URI.create(base + "/api/gifts")).timeout(TIMEOUT)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    return r.nextInt(20) == 0 ? new Request[] {send, send} : new Request[] {send};
  }

  private static HttpRequest get(String base, String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT).GET().build();
  }
}
