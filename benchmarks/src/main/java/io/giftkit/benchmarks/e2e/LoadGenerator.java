package io.giftkit.benchmarks.e2e;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * An open-loop load generator for the gift system, run as its own process against a running demo
 * (or the bare baseline behind the same HTTP API): a sweep over arrival rates, each held for a
 * while after a warm-up, with the scenario's mix of sends, panels and room reads (see
 * {@link GiftMix}) and latencies measured from each request's due time (see {@link OpenLoopRun}).
 * The sustainable rate is the highest rate whose send p99 stays within the budget with at most 1 %
 * errors and at least 95 % of the rate completed. Writes {@code REPORT.md} (a table per rate) and a
 * latency-against-rate chart.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.giftkit.benchmarks.e2e.LoadGenerator \
 *     --target http://127.0.0.1:8080 --rates 100,200,400,800,1600 --warmup 5s --duration 20s \
 *     --budget 50ms --label giftkit --out benchmarks/results/2026-12-01-e2e
 * </pre>
 */
public final class LoadGenerator {

  private LoadGenerator() {}

  /** The settings of a sweep. */
  record Settings(String target, double[] rates, Duration warmup, Duration duration, Duration budget, String label,
      Path out, int maxInFlight, int misses, int retries, Duration jitWarmup, double jitWarmupRate) {}

  /** {@link Settings#misses()} when the sweep goes through every rate whatever it misses. */
  static final int KEEP_GOING = Integer.MAX_VALUE;

  /**
   * One attempt at a rate: its result, whether it was sustained, and which attempt it was (0 the
   * first, 1 the first retry after a miss).
   */
  record Step(OpenLoopRun.Result result, boolean sustained, int attempt) {

    Step(OpenLoopRun.Result result, boolean sustained) {
      this(result, sustained, 0);
    }
  }

  public static void main(String[] args) throws Exception {
    Settings s = parse(args);
    Sweep sw = sweep(s);
    List<Step> steps = sw.steps();
    Path report = write(s, sw);
    double best = sustainable(steps);
    System.out.printf(Locale.ROOT, "%s: sustainable send rate %s (send p99 <= %d ms); report %s%n", s.label(),
        best > 0 ? String.format(Locale.ROOT, "%.0f requests/s", best) : "none of the rates", s.budget().toMillis(),
        report);
  }

  /** A sweep's steps, and the JIT warm-up it ran first (null if none). */
  record Sweep(OpenLoopRun.Result jitWarmup, List<Step> steps) {}

  /**
   * Runs the JIT warm-up (if any), then the rates in order, over one HTTP client: a rate missed is
   * tried again up to {@code retries} times, and the sweep stops once {@code misses} rates in a row
   * were missed on every attempt.
   */
  static Sweep sweep(Settings s) throws InterruptedException {
    ExecutorService io = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "load-http");
      t.setDaemon(true);
      return t;
    });
    List<Step> steps = new ArrayList<>();
    OpenLoopRun.Result warm = null;
    try {
      HttpClient http = HttpClient.newBuilder().executor(io).connectTimeout(Duration.ofSeconds(5))
          .version(HttpClient.Version.HTTP_1_1).build();
      GiftMix mix = new GiftMix(s.target());
      if (!s.jitWarmup().isZero()) {
        // Not judged. In this process and over this client, so that the first rate does not meet a
        // cold generator: a fresh JVM compiling on the shared cores, and a burst of new connections
        // (and server threads) while it catches up with the requests that fell due meanwhile.
        System.out.printf(Locale.ROOT, "%s: JIT warm-up, %.0f requests/s for %ds (not judged)%n", s.label(),
            s.jitWarmupRate(), s.jitWarmup().toSeconds());
        warm = new OpenLoopRun(http, mix::next, s.maxInFlight()).run(s.jitWarmupRate(), Duration.ZERO, s.jitWarmup(),
            (second, inFlight, p99) -> {
              if (second % 10 == 9) {
                System.out.printf(Locale.ROOT, "  %s warm-up t=%3ds open=%5d send p99 so far %.1f ms%n", s.label(),
                    second, inFlight, p99);
              }
            });
        System.out.printf(Locale.ROOT, "  => warm-up: completed %.0f/s, send p99 %.1f ms%n", warm.completedRate(),
            warm.kinds().get(GiftMix.Kind.SEND).percentileMicros(99) / 1000.0);
      }
      int missedInARow = 0;
      for (double rate : s.rates()) {
        boolean ok = false;
        for (int attempt = 0; attempt <= s.retries() && !ok; attempt++) {
          System.out.printf(Locale.ROOT, "%s: %.0f requests/s for %ds after a %ds warm-up%s%n", s.label(), rate,
              s.duration().toSeconds(), s.warmup().toSeconds(), attempt == 0 ? "" : " (retry " + attempt + ")");
          OpenLoopRun.Result r = new OpenLoopRun(http, mix::next, s.maxInFlight()).run(rate, s.warmup(), s.duration(),
              (second, inFlight, p99) -> System.out.printf(Locale.ROOT, "  %s t=%3ds open=%5d send p99 so far %.1f ms%n",
                  s.label(), second, inFlight, p99));
          ok = sustained(r, s.budget());
          steps.add(new Step(r, ok, attempt));
          OpenLoopRun.Kind send = r.kinds().get(GiftMix.Kind.SEND);
          System.out.printf(Locale.ROOT, "  => completed %.0f/s, send p50 %.1f ms p99 %.1f ms, errors %.2f %% %s%n",
              r.completedRate(), send.percentileMicros(50) / 1000.0, send.percentileMicros(99) / 1000.0,
              100 * r.errorRatio(), ok ? "(sustained)" : "(not sustained)");
        }
        missedInARow = ok ? 0 : missedInARow + 1;
        if (missedInARow >= s.misses()) {
          break;
        }
      }
    } finally {
      io.shutdownNow();
    }
    return new Sweep(warm, steps);
  }

  /** Send p99 within the budget, at most 1 % errors, at least 95 % of the due requests completed. */
  static boolean sustained(OpenLoopRun.Result r, Duration budget) {
    return r.kinds().get(GiftMix.Kind.SEND).percentileMicros(99) <= budget.toNanos() / 1000
        && r.errorRatio() <= 0.01 && r.completedRate() * r.seconds() >= 0.95 * r.due();
  }

  static double sustainable(List<Step> steps) {
    double best = 0;
    for (Step st : steps) {
      if (st.sustained()) {
        best = Math.max(best, st.result().targetRate());
      }
    }
    return best;
  }

  static Path write(Settings s, Sweep sweep) throws IOException {
    List<Step> steps = sweep.steps();
    Files.createDirectories(s.out());
    StringBuilder md = new StringBuilder();
    md.append("# End-to-end load: ").append(s.label()).append("\n\n");
    md.append(String.format(Locale.ROOT, "Target %s, %s. Open loop: requests start at the rate whatever the server "
        + "does; latency is from each request's due time (HdrHistogram), so a stall is charged to every request that "
        + "waited. Mix: 45 %% panels, 25 %% room reads, 30 %% sends (5 %% of them retried with the same request id). "
        + "Warm-up %ds, then %ds measured per rate. Sustained: send p99 <= %d ms, errors <= 1 %%, >= 95 %% of the rate "
        + "completed.%s%n%n", s.target(), Instant.now(), s.warmup().toSeconds(), s.duration().toSeconds(),
        s.budget().toMillis(), s.retries() == 0 ? "" : " A rate missed is tried again up to " + s.retries()
        + " time(s) (a single stall of the shared machine can sink one attempt); every attempt is listed, and the "
        + "rate counts as sustained if one of them was.") + (s.misses() == KEEP_GOING ? " Every rate is tried."
        : s.misses() == 1 ? " The sweep stops at the first rate missed." : " The sweep stops after " + s.misses()
        + " rates missed in a row; the sustainable rate is the highest one sustained."));
    OpenLoopRun.Result w = sweep.jitWarmup();
    if (w != null) {
      md.append(String.format(Locale.ROOT, "JIT warm-up before the first rate, in this process and over the same "
          + "connections, not judged: %.0f ticks/s for %.0f s (completed %.0f/s, send p99 %.1f ms).%n%n", w.targetRate(),
          w.seconds(), w.completedRate(), w.kinds().get(GiftMix.Kind.SEND).percentileMicros(99) / 1000.0));
    }
    md.append("| rate (ticks/s) | completed/s | errors | send p50 | send p99 | send p99.9 | panel p99 | room p99 | sustained |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    for (Step st : steps) {
      OpenLoopRun.Result r = st.result();
      md.append(String.format(Locale.ROOT, "| %.0f%s | %.0f | %.2f %% | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %s |%n",
          r.targetRate(), st.attempt() == 0 ? "" : " (retry " + st.attempt() + ")", r.completedRate(),
          100 * r.errorRatio(), ms(r, GiftMix.Kind.SEND, 50),
          ms(r, GiftMix.Kind.SEND, 99), ms(r, GiftMix.Kind.SEND, 99.9), ms(r, GiftMix.Kind.PANEL, 99),
          ms(r, GiftMix.Kind.ROOM, 99), st.sustained() ? "yes" : "no"));
    }
    double best = sustainable(steps);
    md.append(String.format(Locale.ROOT, "%nSustainable rate: **%s**.%n%n![send latency against rate](%s-latency.png)%n",
        best > 0 ? String.format(Locale.ROOT, "%.0f ticks/s", best) : "none of the rates tried", s.label()));
    Path report = s.out().resolve(s.label() + ".md");
    Files.writeString(report, md);
    chart(s, steps);
    return report;
  }

  private static double ms(OpenLoopRun.Result r, GiftMix.Kind k, double p) {
    return r.kinds().get(k).percentileMicros(p) / 1000.0;
  }

  private static void chart(Settings s, List<Step> steps) throws IOException {
    if (steps.isEmpty()) {
      return;
    }
    XYChart chart = new XYChartBuilder().width(800).height(500).title(s.label() + ": send latency against rate")
        .xAxisTitle("requests/s (open loop)").yAxisTitle("ms").build();
    chart.getStyler().setYAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.InsideNW);
    double[] x = steps.stream().mapToDouble(st -> st.result().targetRate()).toArray();
    chart.addSeries("send p50", x, steps.stream().mapToDouble(st -> Math.max(0.01, ms(st.result(), GiftMix.Kind.SEND, 50))).toArray());
    chart.addSeries("send p99", x, steps.stream().mapToDouble(st -> Math.max(0.01, ms(st.result(), GiftMix.Kind.SEND, 99))).toArray());
    double[] budget = new double[x.length];
    Arrays.fill(budget, s.budget().toMillis());
    chart.addSeries("budget", x, budget);
    BitmapEncoder.saveBitmap(chart, s.out().resolve(s.label() + "-latency").toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  static Settings parse(String[] args) {
    String target = "http://127.0.0.1:8080";
    double[] rates = {100, 200, 400, 800, 1600};
    Duration warmup = Duration.ofSeconds(5);
    Duration duration = Duration.ofSeconds(20);
    Duration budget = Duration.ofMillis(50);
    String label = "giftkit";
    Path out = Path.of("benchmarks/results/e2e");
    int maxInFlight = 10_000;
    int misses = 1;
    int retries = 0;
    Duration jitWarmup = Duration.ZERO;
    double jitWarmupRate = 300;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--keep-going")) {
        misses = KEEP_GOING;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--target" -> target = v;
        case "--rates" -> rates = Arrays.stream(v.split(",")).mapToDouble(r -> number("--rates", r)).toArray();
        case "--warmup" -> warmup = duration("--warmup", v);
        case "--duration" -> duration = duration("--duration", v);
        case "--budget" -> budget = duration("--budget", v);
        case "--label" -> label = v;
        case "--out" -> out = Path.of(v);
        case "--max-in-flight" -> maxInFlight = integer("--max-in-flight", v, 1, 1_000_000);
        case "--retries" -> retries = integer("--retries", v, 0, 5);
        case "--misses" -> misses = integer("--misses", v, 1, 100);
        case "--jit-warmup" -> jitWarmup = duration("--jit-warmup", v);
        case "--jit-warmup-rate" -> jitWarmupRate = number("--jit-warmup-rate", v);
        default -> throw new IllegalArgumentException("unknown option " + a + " (known: --target, --rates, --warmup,"
            + " --duration, --budget, --label, --out, --max-in-flight, --retries, --misses, --jit-warmup,"
            + " --jit-warmup-rate, --keep-going)");
      }
    }
    for (double r : rates) {
      if (!(r > 0) || r > 1_000_000) {
        throw new IllegalArgumentException("--rates must be in (0, 1000000], but was " + r);
      }
    }
    if (!label.matches("[A-Za-z0-9_-]{1,40}")) {
      throw new IllegalArgumentException("--label must be 1 to 40 of A-Z a-z 0-9 _ -, but was '" + label + "'");
    }
    if (!(jitWarmupRate > 0) || jitWarmupRate > 1_000_000) {
      throw new IllegalArgumentException("--jit-warmup-rate must be in (0, 1000000], but was " + jitWarmupRate);
    }
    return new Settings(target, rates, warmup, duration, budget, label, out, maxInFlight, misses, retries, jitWarmup,
        jitWarmupRate);
  }

  private static double number(String option, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be numbers (requests per second), but was '" + v + "'");
    }
  }

  private static int integer(String option, String v, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a whole number in [" + min + ", " + max + "], but was '"
          + v + "'");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(option + " must be in [" + min + ", " + max + "], but was " + n);
    }
    return n;
  }

  private static Duration duration(String option, String v) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s)").matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(option + " must be like 500ms or 20s, but was '" + v + "'");
    }
    long n = Long.parseLong(m.group(1));
    return m.group(2).equals("ms") ? Duration.ofMillis(n) : Duration.ofSeconds(n);
  }
}
