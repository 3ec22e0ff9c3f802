package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.SendGift;
import io.giftkit.demo.rooms.RoomDirectory;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The dashboard rendered by headless Chromium (Debian's {@code chromium}; {@code GIFTKIT_CHROMIUM}
 * names another binary): its script fills every panel with live numbers, and the screenshot is a
 * rendered page, not a blank one. The screenshot is kept in {@code target/dashboard.png}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class DashboardChromiumTest {

  static final String TOPIC = "dashboard-gifts-" + Long.toHexString(System.nanoTime());

  @DynamicPropertySource
  static void services(DynamicPropertyRegistry r) {
    DemoTestKafka.register(r);
    r.add("giftkit.cache.redis-url", () -> "redis://127.0.0.1:1"); // memory-only rooms: the page says so
    DemoTestKafka.isolate(r, TOPIC);
  }

  @LocalServerPort int port;
  @Autowired GiftOrderService orders;
  @Autowired RoomDirectory rooms;
  @Autowired io.giftkit.demo.timeline.Timeline timeline;

  private static String chromium() {
    String configured = System.getenv("GIFTKIT_CHROMIUM");
    return configured != null ? configured : "chromium";
  }

  private static String run(List<String> command) throws Exception {
    Path out = Files.createTempFile("chromium", ".out");
    Process p = new ProcessBuilder(command).redirectErrorStream(false).redirectOutput(out.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 90 s: " + command);
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    Files.deleteIfExists(out);
    if (p.exitValue() != 0) {
      throw new AssertionError("chromium exited with " + p.exitValue() + ": " + command
          + " (install Debian's chromium, as scripts/services does, or set GIFTKIT_CHROMIUM)");
    }
    return text;
  }

  private List<String> chromiumArgs(String... extra) {
    List<String> c = new ArrayList<>(List.of(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1400,1000", "--virtual-time-budget=4000"));
    c.addAll(List.of(extra));
    c.add("http://127.0.0.1:" + port + "/");
    return c;
  }

  @Test
  void everyPanelRendersLiveNumbers() throws Exception {
    for (int i = 0; i < 12; i++) {
      orders.send(new SendGift(9_000L + i, 4L, 1L + i % 5, 1, "dash-" + i));
    }
    // Room 4 is read all the while, as a hot room is: the hot set follows the last second's reads.
    java.util.concurrent.atomic.AtomicBoolean reading = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread reader = new Thread(() -> {
      while (reading.get()) {
        rooms.info(4);
        java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // about 500 reads a second, not a busy loop
      }
    });
    reader.start();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(() -> timeline.points().size() >= 2); // the series has a line to draw
    String dom;
    try {
      dom = run(chromiumArgs("--dump-dom"));
    } finally {
      reading.set(false);
      reader.join();
    }
    assertThat(dom).contains("<b id=\"site\">a</b>").contains("updated ").contains("<span id=\"error\"></span>");
    assertThat(section(dom, "breakers")).contains("payment").contains("CLOSED");
    assertThat(section(dom, "gifts")).contains("orders created").contains("ledger reconciles");
    assertThat(section(dom, "consumers")).contains("settlement").contains("RUNNING");
    assertThat(section(dom, "hot-rooms")).contains("<td>4</td>");
    assertThat(section(dom, "cache")).contains("memory only (no Redis)");
    assertThat(section(dom, "shards")).contains("<td>9</td>");
    assertThat(dom).containsPattern("id=\"gifts-per-second\">[0-9.]+<");
    // the time series: a line per series over the last seconds, and a state strip per breaker
    assertThat(dom).containsPattern("<polyline id=\"tl-sends\"[^>]* points=\"[0-9.]+,[0-9.]+ [0-9.]+,[0-9.]+");
    assertThat(dom).contains("id=\"tl-lag\"").contains("class=\"strip-payment\"").contains("class=\"strip-privileged-gifts\"");

    File png = new File("target/dashboard.png");
    Files.deleteIfExists(png.toPath());
    run(chromiumArgs("--screenshot=" + png.getAbsolutePath()));
    BufferedImage image = ImageIO.read(png);
    assertThat(image.getWidth()).isEqualTo(1400);
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 4) {
      for (int x = 0; x < image.getWidth(); x += 4) {
        colours.add(image.getRGB(x, y));
      }
    }
    assertThat(colours.size()).as("a rendered page has text, badges and panels, not a blank").isGreaterThan(50);
  }

  /** The table with this id, as dumped. */
  private static String section(String dom, String id) {
    int start = dom.indexOf("id=\"" + id + "\"");
    assertThat(start).as("element #" + id).isNotNegative();
    int end = dom.indexOf("</table>", start);
    return dom.substring(start, end < 0 ? dom.length() : end);
  }
}
