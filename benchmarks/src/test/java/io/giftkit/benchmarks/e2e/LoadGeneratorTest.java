package io.giftkit.benchmarks.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator against a small HTTP server on loopback that takes a fixed service time on one
 * thread (a server with a known capacity): open-loop latencies include the queueing a saturated
 * server causes, the sweep finds the rate it sustains, and sends carry unique request ids.
 */
class LoadGeneratorTest {

  private static final Pattern REQUEST_ID = Pattern.compile("\"clientRequestId\":\"([^\"]+)\"");
  private HttpServer server;
  private final Set<String> ids = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sends = new AtomicInteger();

  /** One thread, 20 ms per request: 50 requests/s at most. */
  @BeforeEach
  void server() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
    server.createContext("/", exchange -> {
      try {
        if (exchange.getRequestMethod().equals("POST")) {
          String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          Matcher m = REQUEST_ID.matcher(body);
          if (m.find()) {
            ids.add(m.group(1));
          }
          sends.incrementAndGet();
        }
        Thread.sleep(20); // the server's service time (what is being measured), not synchronisation
        byte[] ok = "{}".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, ok.length);
        exchange.getResponseBody().write(ok);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        exchange.close();
      }
    });
    server.setExecutor(Executors.newSingleThreadExecutor());
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void openLoopLatencyIncludesQueueingAndTheSweepFindsTheSustainedRate(@TempDir Path out) throws Exception {
    String target = "http://127.0.0.1:" + server.getAddress().getPort();
    LoadGenerator.Settings s = LoadGenerator.parse(new String[] {"--target", target, "--rates", "10,100",
        "--warmup", "500ms", "--duration", "3s", "--budget", "250ms", "--label", "tiny", "--out", out.toString()});
    List<LoadGenerator.Step> steps = LoadGenerator.sweep(s).steps();
    assertThat(steps).hasSize(2);
    OpenLoopRun.Result slow = steps.get(0).result();
    OpenLoopRun.Result overloaded = steps.get(1).result();
    assertThat(steps.get(0).sustained()).as("10/s on a 50/s server").isTrue();
    assertThat(slow.kinds().get(GiftMix.Kind.SEND).percentileMicros(50)).isGreaterThanOrEqualTo(20_000);
    assertThat(steps.get(1).sustained()).as("100/s on a 50/s server").isFalse();
    long p99 = 0;
    for (OpenLoopRun.Kind k : overloaded.kinds().values()) {
      p99 = Math.max(p99, k.percentileMicros(99));
    }
    assertThat(p99).as("queueing behind a saturated server is charged (open loop): far above the 20 ms service time")
        .isGreaterThan(500_000);
    assertThat(LoadGenerator.sustainable(steps)).isEqualTo(10);
    assertThat(ids).as("every send has its own request id; a retry reuses it").hasSizeLessThanOrEqualTo(sends.get())
        .hasSizeGreaterThan(sends.get() * 8 / 10);
    Path report = LoadGenerator.write(s, new LoadGenerator.Sweep(null, steps));
    assertThat(Files.readString(report)).contains("| 10 |", "| 100 |", "Sustainable rate: **10 ticks/s**")
        .doesNotContain("JIT warm-up");
    assertThat(out.resolve("tiny-latency.png")).isRegularFile();
  }

  @Test
  void aMissedRateIsTriedAgainOnceAndEveryAttemptIsReported(@TempDir Path out) throws Exception {
    String target = "http://127.0.0.1:" + server.getAddress().getPort();
    LoadGenerator.Settings s = LoadGenerator.parse(new String[] {"--target", target, "--rates", "100,10",
        "--warmup", "500ms", "--duration", "2s", "--budget", "250ms", "--label", "retried", "--out", out.toString(),
        "--retries", "1"});
    List<LoadGenerator.Step> steps = LoadGenerator.sweep(s).steps();
    assertThat(steps).as("100/s on a 50/s server misses twice; the sweep stops there").hasSize(2);
    assertThat(steps).extracting(LoadGenerator.Step::attempt).containsExactly(0, 1);
    assertThat(steps).noneMatch(LoadGenerator.Step::sustained);
    assertThat(LoadGenerator.sustainable(steps)).isZero();
    assertThat(Files.readString(LoadGenerator.write(s, new LoadGenerator.Sweep(null, steps)))).contains("| 100 |",
        "| 100 (retry 1) |", "tried again up to 1 time(s)", "stops at the first rate missed");
  }

  @Test
  void theJitWarmUpRunsFirstInTheSameProcessAndTheSweepGoesOnPastOneMissedRate(@TempDir Path out) throws Exception {
    String target = "http://127.0.0.1:" + server.getAddress().getPort();
    LoadGenerator.Settings s = LoadGenerator.parse(new String[] {"--target", target, "--rates", "100,10,100,100,10",
        "--warmup", "500ms", "--duration", "2s", "--budget", "250ms", "--label", "warmed", "--out", out.toString(),
        "--misses", "2", "--jit-warmup", "2s", "--jit-warmup-rate", "10"});
    LoadGenerator.Sweep sweep = LoadGenerator.sweep(s);
    OpenLoopRun.Result warm = sweep.jitWarmup();
    assertThat(warm).as("the warm-up ran at its own rate before the first rate").isNotNull();
    assertThat(warm.targetRate()).isEqualTo(10);
    assertThat(warm.completedRate()).as("10/s on a 50/s server, for 2 s").isGreaterThan(5);
    assertThat(sweep.steps()).extracting(st -> st.result().targetRate())
        .as("one miss (100) is passed, two in a row (100, 100) end the sweep before the last rate")
        .containsExactly(100.0, 10.0, 100.0, 100.0);
    assertThat(sweep.steps()).extracting(LoadGenerator.Step::sustained).containsExactly(false, true, false, false);
    assertThat(LoadGenerator.sustainable(sweep.steps())).isEqualTo(10);
    assertThat(Files.readString(LoadGenerator.write(s, sweep))).contains(
        "JIT warm-up before the first rate, in this process and over the same connections, not judged: 10 ticks/s for 2 s",
        "stops after 2 rates missed in a row", "Sustainable rate: **10 ticks/s**");
  }

  @Test
  void badOptionsNameTheOptionAndTheValue() {
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--rates", "100,-5"}))
        .hasMessage("--rates must be in (0, 1000000], but was -5.0");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--duration", "20 seconds"}))
        .hasMessage("--duration must be like 500ms or 20s, but was '20 seconds'");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--label", "a b"}))
        .hasMessageContaining("--label must be");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--speed", "1"})).hasMessageStartingWith("unknown option --speed");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--misses", "0"}))
        .hasMessage("--misses must be in [1, 100], but was 0");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--misses", "two"}))
        .hasMessage("--misses must be a whole number in [1, 100], but was 'two'");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--rates", "100,fast"}))
        .hasMessage("--rates must be numbers (requests per second), but was 'fast'");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--retries", "9"}))
        .hasMessage("--retries must be in [0, 5], but was 9");
    assertThatThrownBy(() -> LoadGenerator.parse(new String[] {"--jit-warmup-rate", "0"}))
        .hasMessage("--jit-warmup-rate must be in (0, 1000000], but was 0.0");
    LoadGenerator.Settings defaults = LoadGenerator.parse(new String[0]);
    assertThat(defaults.rates()).containsExactly(100, 200, 400, 800, 1600);
    assertThat(defaults.misses()).isEqualTo(1);
    assertThat(defaults.jitWarmup()).isZero();
  }
}
