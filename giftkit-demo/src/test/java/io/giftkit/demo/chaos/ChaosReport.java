package io.giftkit.demo.chaos;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The run's report: the request table overall and per fault window, availability (panels; sends
 * with the down shard's sends apart), the invariants, the alerts, and a chart of requests, failures
 * and send p99 per second with the fault windows shaded. Written to {@code REPORT.md},
 * {@code chaos.png} and {@code requests.csv} (every request) in the run dir.
 */
final class ChaosReport {

  static final double PANEL_TARGET = 99.99;

  /** What the report needs besides the samples. */
  record Inputs(ChaosOptions options, double loadSeconds, List<FaultWindow> faults, List<Sample> samples,
      List<Invariants.Verdict> verdicts, String settlement, String apiAlerts, List<String> harnessNotes) {}

  private final Inputs in;
  private final StringBuilder md = new StringBuilder();
  private double panelAvailability;

  ChaosReport(Inputs in) {
    this.in = in;
  }

  /** @return whether every invariant holds and panel availability meets the target */
  boolean passed() {
    return in.verdicts().stream().allMatch(Invariants.Verdict::pass) && panelAvailability >= PANEL_TARGET;
  }

  double panelAvailability() {
    return panelAvailability;
  }

  /** Builds the text (and computes availability). */
  String render() {
    md.setLength(0);
    ChaosOptions o = in.options();
    md.append("# Chaos run, seed ").append(o.seed()).append("\n\n");
    line("- load: %.1f s (asked %d s) at %d req/s, two application instances, round-robin, one retry on the other"
        + " instance for refused/reset connections", in.loadSeconds(), o.seconds(), o.rate());
    line("- run dir: `%s` (process logs, data dirs, `chaos.log`)", o.runDir());
    line("- settlement: %s", in.settlement());
    for (String n : in.harnessNotes()) {
      line("- %s", n);
    }
    md.append("\n## Faults\n\n| fault | injected s | restart issued s | recovered s | outage s | note |\n|---|---|---|---|---|---|\n");
    for (FaultWindow f : in.faults()) {
      line("| %s | %.1f | %.1f | %.1f | %.1f | %s |", f.label(), f.start(), f.restarted(), f.end(), f.end() - f.start(),
          f.note());
    }
    md.append("\n## Requests, whole run\n\n");
    table(s -> true);
    FaultWindow shardDown = in.faults().stream().filter(f -> f.label().equals("SHARD9_KILL")).findFirst().orElse(null);
    Predicate<Sample> toDownShard = s -> s.endpoint() == Sample.Endpoint.SEND && s.shard() == ChaosCluster.DOWN_SHARD
        && shardDown != null && shardDown.contains(s.startSecond());
    List<Sample> panels = of(Sample.Endpoint.PANEL, s -> true);
    long panelOk = panels.stream().filter(s -> s.outcome() == Sample.Outcome.OK).count();
    panelAvailability = panels.isEmpty() ? 0 : 100.0 * panelOk / panels.size();
    List<Sample> sends = of(Sample.Endpoint.SEND, s -> s.outcome() != Sample.Outcome.CLIENT_ERROR);
    List<Sample> healthy = sends.stream().filter(toDownShard.negate()).toList();
    List<Sample> down = sends.stream().filter(toDownShard).toList();
    long sends4xx = of(Sample.Endpoint.SEND, s -> s.outcome() == Sample.Outcome.CLIENT_ERROR).size();
    md.append('\n');
    line("- **panel availability %.4f%%** (%d of %d answered 2xx; target %.2f%%)", panelAvailability, panelOk,
        panels.size(), PANEL_TARGET);
    line("- room availability %s", availability(of(Sample.Endpoint.ROOM, s -> true)));
    line("- send availability %s (4xx excluded: %d — there should be none)", availability(sends), sends4xx);
    line("- send availability, healthy shards %s (sends to shard 9 while its server was down excluded)",
        availability(healthy));
    line("- sends to the down shard (uid %% 10 = 9 during SHARD9_KILL): %d, 2xx %d, failed %d, p50 %s ms, p99 %s ms",
        down.size(), down.stream().filter(s -> s.outcome() == Sample.Outcome.OK).count(),
        down.stream().filter(Sample::failed).count(), pct(down, 50), pct(down, 99));
    for (FaultWindow f : in.faults()) {
      md.append("\n### During ").append(f.label()).append(String.format(Locale.ROOT, " (%.1f–%.1f s)%n%n", f.start(),
          f.end()));
      table(s -> f.contains(s.startSecond()));
    }
    md.append("\n## Failure causes (top 12)\n\n| endpoint | count | cause |\n|---|---|---|\n");
    Map<String, Long> causes = in.samples().stream().filter(s -> s.outcome() != Sample.Outcome.OK)
        .collect(Collectors.groupingBy(s -> s.endpoint() + "\u0000" + normalise(s.detail()), Collectors.counting()));
    causes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12).forEach(e -> {
      String[] k = e.getKey().split("\u0000", 2);
      line("| %s | %d | `%s` |", k[0], e.getValue(), k[1].replace("|", "\\|"));
    });
    md.append("\n## Invariants (SQL against the databases)\n\n| invariant | result | summary |\n|---|---|---|\n");
    for (Invariants.Verdict v : in.verdicts()) {
      line("| %s | %s | %s |", v.name(), v.pass() ? "PASS" : "**FAIL**", v.summary());
    }
    for (Invariants.Verdict v : in.verdicts()) {
      for (String d : v.details()) {
        line("- %s: %s", v.name().substring(0, 2), d);
      }
    }
    md.append("\n## Alerts (`GET /api/reconciliation/alerts`)\n\n").append(in.apiAlerts()).append("\n");
    md.append("\n## Verdict\n\n").append(passed() ? "PASSED" : "FAILED").append(String.format(Locale.ROOT,
        ": invariants %s, panel availability %.4f%% %s %.2f%%%n", in.verdicts().stream().allMatch(Invariants.Verdict::pass)
            ? "all hold" : "do not all hold", panelAvailability, panelAvailability >= PANEL_TARGET ? ">=" : "<",
        PANEL_TARGET));
    md.append("\n![requests, failures and send p99 per second](chaos.png)\n");
    return md.toString();
  }

  /** The summary lines printed at the end of a run. */
  String summary() {
    String text = render();
    int from = text.indexOf("## Requests, whole run");
    int to = text.indexOf("\n### During");
    String requests = from < 0 ? "" : text.substring(from, to < 0 ? text.length() : to);
    int inv = text.indexOf("## Invariants");
    int alerts = text.indexOf("## Alerts");
    return requests + "\n" + text.substring(inv, alerts) + text.substring(text.indexOf("## Verdict"));
  }

  private static String normalise(String detail) {
    if (detail == null) {
      return "";
    }
    return detail.replaceAll("\\d{6,}", "N").replaceAll("/127\\.0\\.0\\.1:\\d+", "/127.0.0.1:P");
  }

  private String availability(List<Sample> samples) {
    long ok = samples.stream().filter(s -> s.outcome() == Sample.Outcome.OK).count();
    return String.format(Locale.ROOT, "%.4f%% (%d of %d)", samples.isEmpty() ? 0 : 100.0 * ok / samples.size(), ok,
        samples.size());
  }

  private List<Sample> of(Sample.Endpoint e, Predicate<Sample> p) {
    return in.samples().stream().filter(s -> s.endpoint() == e).filter(p).toList();
  }

  private void table(Predicate<Sample> filter) {
    md.append("| endpoint | requests | 2xx | 4xx | 5xx | errors | retried | availability | p50 ms | p99 ms |\n"
        + "|---|---|---|---|---|---|---|---|---|---|\n");
    for (Sample.Endpoint e : Sample.Endpoint.values()) {
      List<Sample> s = of(e, filter);
      Map<Sample.Outcome, Long> by = new EnumMap<>(Sample.Outcome.class);
      s.forEach(x -> by.merge(x.outcome(), 1L, Long::sum));
      long denominator = s.size() - (e == Sample.Endpoint.SEND ? by.getOrDefault(Sample.Outcome.CLIENT_ERROR, 0L) : 0);
      line("| %s | %d | %d | %d | %d | %d | %d | %s | %s | %s |", e.name().toLowerCase(Locale.ROOT), s.size(),
          by.getOrDefault(Sample.Outcome.OK, 0L), by.getOrDefault(Sample.Outcome.CLIENT_ERROR, 0L),
          by.getOrDefault(Sample.Outcome.SERVER_ERROR, 0L), by.getOrDefault(Sample.Outcome.ERROR, 0L),
          s.stream().filter(Sample::retried).count(), denominator == 0 ? "-" : String.format(Locale.ROOT, "%.3f%%",
              100.0 * by.getOrDefault(Sample.Outcome.OK, 0L) / denominator), pct(s, 50), pct(s, 99));
    }
  }

  private static String pct(List<Sample> samples, double p) {
    if (samples.isEmpty()) {
      return "-";
    }
    Histogram h = new Histogram(3_600_000_000L, 3);
    samples.forEach(s -> h.recordValue(Math.max(1, Math.min(s.latencyMicros(), 3_600_000_000L))));
    return String.format(Locale.ROOT, "%.1f", h.getValueAtPercentile(p) / 1000.0);
  }

  private void line(String format, Object... args) {
    md.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  /** Writes REPORT.md, chaos.png and requests.csv (every request). */
  void write(Path dir) throws IOException {
    Files.writeString(dir.resolve("REPORT.md"), render());
    chart(dir.resolve("chaos.png"));
    try (var out = Files.newBufferedWriter(dir.resolve("requests.csv"))) {
      out.write("endpoint,start_s,latency_ms,outcome,status,retried,shard,detail\n");
      for (Sample s : in.samples()) {
        out.write(String.format(Locale.ROOT, "%s,%.3f,%.3f,%s,%d,%b,%d,\"%s\"%n", s.endpoint(), s.startSecond(),
            s.latencyMicros() / 1000.0, s.outcome(), s.status(), s.retried(), s.shard(),
            s.detail() == null ? "" : s.detail().replace("\"", "'").replace("\n", " ")));
      }
    }
  }

  private void chart(Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    int seconds = (int) Math.ceil(Math.max(in.loadSeconds(), in.samples().stream().mapToDouble(Sample::startSecond)
        .max().orElse(1))) + 1;
    double[] x = new double[seconds];
    double[] requests = new double[seconds];
    double[] failures = new double[seconds];
    List<List<Sample>> sendsBySecond = new ArrayList<>();
    for (int i = 0; i < seconds; i++) {
      x[i] = i;
      sendsBySecond.add(new ArrayList<>());
    }
    for (Sample s : in.samples()) {
      int i = Math.min(seconds - 1, (int) s.startSecond());
      requests[i]++;
      if (s.failed()) {
        failures[i]++;
      }
      if (s.endpoint() == Sample.Endpoint.SEND) {
        sendsBySecond.get(i).add(s);
      }
    }
    double[] p99 = new double[seconds];
    for (int i = 0; i < seconds; i++) {
      String v = pct(sendsBySecond.get(i), 99);
      p99[i] = v.equals("-") ? 0 : Double.parseDouble(v);
    }
    XYChart chart = new XYChartBuilder().width(1400).height(600)
        .title("Chaos run, seed " + in.options().seed() + " (" + in.options().rate() + " req/s)")
        .xAxisTitle("second of the run").yAxisTitle("requests / failures per second").build();
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(org.knowm.xchart.style.Styler.LegendLayout.Horizontal);
    chart.getStyler().setMarkerSize(0);
    double top = 0;
    for (double r : requests) {
      top = Math.max(top, r);
    }
    Color[] shades = {new Color(255, 160, 0, 60), new Color(0, 120, 255, 50), new Color(200, 0, 200, 50),
        new Color(0, 180, 80, 60), new Color(255, 0, 0, 45), new Color(120, 80, 0, 60)};
    int n = 0;
    Map<String, Integer> used = new LinkedHashMap<>();
    for (FaultWindow f : in.faults()) {
      String name = f.label();
      int k = used.merge(name, 1, Integer::sum);
      if (k > 1) {
        name = name + " #" + k;
      }
      XYSeries s = chart.addSeries(name, new double[] {f.start(), f.start(), f.end(), f.end()},
          new double[] {0, top * 1.05, top * 1.05, 0});
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
      s.setFillColor(shades[n % shades.length]);
      s.setLineColor(shades[n % shades.length]);
      s.setMarker(SeriesMarkers.NONE);
      n++;
    }
    XYSeries r = chart.addSeries("requests/s", x, requests);
    r.setMarker(SeriesMarkers.NONE);
    r.setLineColor(Color.DARK_GRAY);
    XYSeries f = chart.addSeries("failed (5xx + errors)/s", x, failures);
    f.setMarker(SeriesMarkers.NONE);
    f.setLineColor(Color.RED);
    f.setLineWidth(2f);
    XYSeries p = chart.addSeries("send p99 ms", x, p99);
    p.setMarker(SeriesMarkers.NONE);
    p.setLineColor(new Color(0, 90, 200));
    p.setYAxisGroup(1);
    chart.setYAxisGroupTitle(1, "send p99 (ms)");
    chart.getStyler().setYAxisGroupPosition(1, org.knowm.xchart.style.Styler.YAxisPosition.Right);
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  static Comparator<FaultWindow> byStart() {
    return Comparator.comparingDouble(FaultWindow::start);
  }
}
