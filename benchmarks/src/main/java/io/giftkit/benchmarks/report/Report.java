package io.giftkit.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.giftkit.benchmarks.report.Area.Kind;
import io.giftkit.benchmarks.report.Area.Row;
import io.giftkit.benchmarks.report.Area.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns JMH's JSON results into {@code REPORT.md} and PNG charts, one table per {@link Area}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.giftkit.benchmarks.report.Report jmh.json out-dir "command line"
 * </pre>
 */
public final class Report {

  private Report() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: Report <jmh.json> <output dir> [command that produced the results]");
      System.exit(2);
    }
    System.setProperty("java.awt.headless", "true");
    Path json = Path.of(args[0]);
    Path out = Path.of(args[1]);
    String command = args.length > 2 ? args[2] : "(not given)";
    Files.createDirectories(out);

    Map<String, Result> byName = new LinkedHashMap<>();
    for (JsonNode n : new ObjectMapper().readTree(json.toFile())) {
      Result r = new Result(n);
      byName.put(r.benchmark, r);
    }

    StringBuilder md = new StringBuilder();
    md.append("# GiftKit benchmark report\n\n");
    md.append("Produced by `").append(command).append("`; raw results: [`").append(json.getFileName())
        .append("`](").append(json.getFileName()).append(").\n\n");
    md.append("## Machine\n\n").append(Machine.describe()).append('\n');
    md.append("Every table below was measured in one run: GiftKit and its competitors side by side. Scores are ")
        .append("JMH's mean ± its 99.9% error; B/op is from `-prof gc`.\n\n");

    List<String> verdicts = new ArrayList<>();
    int chart = 0;
    for (Area area : Areas.all()) {
      md.append("## ").append(area.title()).append("\n\n");
      Map<String, Result> rows = new LinkedHashMap<>();
      for (Result r : byName.values()) {
        if (r.benchmark.startsWith(area.benchmarkClass() + ".")) {
          rows.put(r.benchmark.substring(area.benchmarkClass().length() + 1), r);
        }
      }
      List<String> missing = new ArrayList<>();
      for (Row row : area.rows()) {
        if (!rows.containsKey(row.method())) {
          missing.add(row.method());
        }
      }
      if (area.baseline() != null && !rows.containsKey(area.baseline())) {
        missing.add(area.baseline());
      }
      if (!missing.isEmpty()) {
        md.append("Not measured in this run (missing: ").append(String.join(", ", missing)).append(").\n\n");
        verdicts.add("| " + area.title() + " | " + area.goal() + " | not measured |");
        continue;
      }
      table(md, area, rows);
      Verdict v = area.judge().apply(rows);
      String verdict = (v.met() ? "**met**" : "**not met**") + ": " + v.detail();
      md.append("\nGoal: ").append(area.goal()).append(". Verdict: ").append(verdict).append("\n\n");
      verdicts.add("| " + area.title() + " | " + area.goal() + " | " + verdict + " |");
      String png = String.format(Locale.ROOT, "chart-%02d.png", ++chart);
      drawChart(area, rows, out.resolve(png));
      md.append("![").append(area.title()).append("](").append(png).append(")\n\n");
    }
    md.append("## Verdicts\n\n| area | goal | verdict |\n|---|---|---|\n");
    verdicts.forEach(v -> md.append(v).append('\n'));
    Files.writeString(out.resolve("REPORT.md"), md.toString());
    System.out.println("Wrote " + out.resolve("REPORT.md"));
  }

  private static void table(StringBuilder md, Area area, Map<String, Result> rows) {
    Result g = rows.get(area.giftkit());
    String unit = g.unit;
    switch (area.kind()) {
      case LATENCY:
        md.append("| implementation | samples | mean (").append(unit).append(") | p50 | p90 | p99 | p99.9 | max | p99 ratio | B/op |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row row : area.rows()) {
          Result r = rows.get(row.method());
          md.append(String.format(Locale.ROOT, "| %s | %d | %.3f ± %.3f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |%n",
              row.label(), r.samples, r.score, r.error, r.percentile("50.0"), r.percentile("90.0"),
              r.percentile("99.0"), r.percentile("99.9"), r.percentile("100.0"),
              ratio(g.percentile("99.0") / r.percentile("99.0")), bytes(r)));
        }
        break;
      case OVERHEAD:
        Result base = rows.get(area.baseline());
        md.append("| implementation | score (").append(unit).append(") | overhead over baseline | first row's overhead ÷ this | B/op |\n");
        md.append("|---|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| baseline (payload alone) | %.1f ± %.1f | — | — | %s |%n", base.score, base.error, bytes(base)));
        double gOver = g.score - base.score;
        for (Row row : area.rows()) {
          Result r = rows.get(row.method());
          double over = r.score - base.score;
          md.append(String.format(Locale.ROOT, "| %s | %.1f ± %.1f | %.1f | %s | %s |%n",
              row.label(), r.score, r.error, over, ratio(gOver / over), bytes(r)));
        }
        break;
      default:
        boolean higherBetter = area.kind() == Kind.THROUGHPUT;
        md.append("| implementation | score (").append(unit).append(") | ")
            .append(higherBetter ? "first row ÷ this" : "this ÷ first row").append(" | B/op |\n");
        md.append("|---|---|---|---|\n");
        for (Row row : area.rows()) {
          Result r = rows.get(row.method());
          double ratio = higherBetter ? g.score / r.score : r.score / g.score;
          md.append(String.format(Locale.ROOT, "| %s | %.3f ± %.3f | %s | %s |%n",
              row.label(), r.score, r.error, ratio(ratio), bytes(r)));
        }
    }
  }

  private static String ratio(double r) {
    return Double.isFinite(r) ? String.format(Locale.ROOT, "%.2fx", r) : "n/a";
  }

  private static String bytes(Result r) {
    return Double.isNaN(r.bytesPerOp) ? "n/a" : String.format(Locale.ROOT, "%.0f", r.bytesPerOp);
  }

  private static void drawChart(Area area, Map<String, Result> rows, Path png) throws IOException {
    if (area.kind() == Kind.LATENCY) {
      XYChart chart = new XYChartBuilder().width(900).height(500).title(area.title())
          .xAxisTitle("percentile").yAxisTitle(rows.get(area.giftkit()).unit).build();
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
      String[] ps = {"0.0", "50.0", "90.0", "95.0", "99.0", "99.9", "100.0"};
      for (Row row : area.rows()) {
        Result r = rows.get(row.method());
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int i = 0; i < ps.length; i++) {
          x.add((double) i);
          y.add(r.percentile(ps[i]));
        }
        chart.addSeries(row.label(), x, y);
      }
      chart.getStyler().setxAxisTickLabelsFormattingFunction(v -> {
        int i = (int) Math.round(v);
        return i >= 0 && i < ps.length ? "p" + ps[i].replace(".0", "") : "";
      });
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
      return;
    }
    CategoryChart chart = new CategoryChartBuilder().width(1100).height(700).title(area.title())
        .yAxisTitle(rows.get(area.giftkit()).unit).build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setXAxisLabelRotation(30);
    chart.getStyler().setAxisTickLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
    List<String> labels = new ArrayList<>();
    List<Double> scores = new ArrayList<>();
    List<Double> errors = new ArrayList<>();
    if (area.baseline() != null) {
      Result b = rows.get(area.baseline());
      labels.add("baseline");
      scores.add(b.score);
      errors.add(Double.isNaN(b.error) ? 0 : b.error);
    }
    for (Row row : area.rows()) {
      Result r = rows.get(row.method());
      labels.add(row.label());
      scores.add(r.score);
      errors.add(Double.isNaN(r.error) ? 0 : r.error);
    }
    chart.addSeries("score", labels, scores, errors);
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
