package io.giftkit.demo.chaos;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load: a fixed request rate (open loop: requests are sent on schedule whether or not earlier
 * ones answered) from this JVM, through one {@link HttpClient} (connect timeout 1 s, request timeout
 * 3 s) with a small executor. 45% panels, 25% rooms, 30% sends; uids 1..20,000 (every shard); rooms
 * 1..50, room 1 hot (a third of room traffic). Requests alternate between the two instances; one
 * whose connection is refused or reset is sent once more to the other instance, as a load balancer
 * would (a send keeps its {@code clientRequestId}, so the retry is idempotent).
 */
final class LoadDriver implements AutoCloseable {

  static final int USERS = 20_000;
  static final int ROOMS = 50;
  static final int GIFTS = 5;
  private static final Duration TICK = Duration.ofMillis(10);

  private final List<URI> targets;
  private final int rate;
  private final Random rng;
  private final ExecutorService httpExecutor = Executors.newFixedThreadPool(6, daemon("chaos-http"));
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon("chaos-load"));
  private final HttpClient client;
  private final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<CompletableFuture<?>> inFlight = new ConcurrentLinkedQueue<>();
  private final AtomicLong sequence = new AtomicLong();
  private final String runId;
  private long zero;
  private double owed;
  private long lastTick;
  private int next;

  LoadDriver(List<URI> targets, int rate, long seed) {
    this.targets = List.copyOf(targets);
    this.rate = rate;
    this.rng = new Random(seed * 31 + 7);
    this.runId = Long.toString(seed, 36) + "-" + Long.toString(System.currentTimeMillis(), 36);
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1))
        .executor(httpExecutor).build();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Starts sending; second 0 of the run is {@code zeroNanos}. */
  void start(long zeroNanos) {
    zero = zeroNanos;
    lastTick = System.nanoTime();
    ticker.scheduleAtFixedRate(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops sending and waits (at most {@code wait}) for the requests in flight to finish. */
  void stop(Duration wait) {
    ticker.shutdown();
    try {
      ticker.awaitTermination(5, TimeUnit.SECONDS);
      CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // whatever has not answered by now is cut off; their samples are missing and the count says so
    }
  }

  List<Sample> samples() {
    return new ArrayList<>(samples);
  }

  private void tick() {
    long now = System.nanoTime();
    owed += (now - lastTick) / 1e9 * rate;
    lastTick = now;
    while (owed >= 1) {
      owed -= 1;
      fire();
    }
    inFlight.removeIf(CompletableFuture::isDone);
  }

  private void fire() {
    double pick = rng.nextDouble();
    long room = rng.nextInt(3) == 0 ? 1 : 1 + rng.nextInt(ROOMS);
    long uid = 1 + rng.nextInt(USERS);
    Sample.Endpoint endpoint;
    String path;
    String body = null;
    if (pick < 0.45) {
      endpoint = Sample.Endpoint.PANEL;
      path = "/api/rooms/" + room + "/panel?uid=" + uid;
    } else if (pick < 0.70) {
      endpoint = Sample.Endpoint.ROOM;
      path = "/api/rooms/" + room;
    } else {
      endpoint = Sample.Endpoint.SEND;
      path = "/api/gifts";
      body = String.format(Locale.ROOT, "{\"uid\":%d,\"roomId\":%d,\"giftId\":%d,\"count\":%d,\"clientRequestId\":\"c-%s-%d\"}",
          uid, room, 1 + rng.nextInt(GIFTS), 1 + rng.nextInt(3), runId, sequence.incrementAndGet());
    }
    int first = next;
    next = (next + 1) % targets.size();
    int shard = endpoint == Sample.Endpoint.SEND ? (int) (uid % 10) : -1;
    long start = System.nanoTime();
    String payload = body;
    CompletableFuture<Sample> f = send(first, path, payload)
        .handle((r, e) -> {
          if (e != null && retryable(e) && targets.size() > 1) {
            return send((first + 1) % targets.size(), path, payload).handle((r2, e2) -> sample(endpoint, start, r2, e2,
                true, shard));
          }
          return CompletableFuture.completedFuture(sample(endpoint, start, r, e, false, shard));
        })
        .thenCompose(x -> x)
        .whenComplete((s, e) -> {
          if (s != null) {
            samples.add(s);
          } else {
            samples.add(new Sample(endpoint, start - zero, (System.nanoTime() - start) / 1000, Sample.Outcome.ERROR, 0,
                false, shard, "load driver: " + e));
          }
        });
    inFlight.add(f);
  }

  private CompletableFuture<HttpResponse<String>> send(int target, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(targets.get(target).resolve(path)).timeout(Duration.ofSeconds(3));
    if (body != null) {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    }
    return client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private Sample sample(Sample.Endpoint endpoint, long start, HttpResponse<String> r, Throwable e, boolean retried,
      int shard) {
    long latency = (System.nanoTime() - start) / 1000;
    if (e != null) {
      Throwable cause = unwrap(e);
      return new Sample(endpoint, start - zero, latency, Sample.Outcome.ERROR, 0, retried, shard,
          cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
    }
    int status = r.statusCode();
    Sample.Outcome outcome = status < 400 ? Sample.Outcome.OK
        : status < 500 ? Sample.Outcome.CLIENT_ERROR : Sample.Outcome.SERVER_ERROR;
    String detail = outcome == Sample.Outcome.OK ? null
        : status + " " + r.body().substring(0, Math.min(200, r.body().length())).replaceAll("\"timestamp\":\"[^\"]*\",?", "");
    return new Sample(endpoint, start - zero, latency, outcome, status, retried, shard, detail);
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * A load balancer retries a request on another instance when the connection could not be made or
   * was cut (the instance died); not when it merely answered slowly (a request timeout).
   */
  static boolean retryable(Throwable e) {
    Throwable t = unwrap(e);
    if (t instanceof HttpConnectTimeoutException || t instanceof ConnectException) {
      return true;
    }
    if (t instanceof HttpTimeoutException) {
      return false;
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConnectException || c instanceof ClosedChannelException) {
        return true;
      }
      String m = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
      if (c instanceof IOException && (m.contains("reset") || m.contains("received no bytes") || m.contains("eof")
          || m.contains("closed") || m.contains("broken pipe"))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    httpExecutor.shutdownNow();
  }
}
