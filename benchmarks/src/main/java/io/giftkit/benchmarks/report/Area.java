package io.giftkit.benchmarks.report;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One table of the report: GiftKit's benchmark and its competitors, measured in the same run, with
 * the goal the module README states and how to judge it.
 *
 * <p>{@code kind} says how rows compare: THROUGHPUT (higher is better; ratio = GiftKit / row),
 * TIME (lower is better; ratio = row / GiftKit, so above 1 means GiftKit is faster), OVERHEAD
 * (time minus a baseline row; ratio = GiftKit's overhead / row's overhead, so below 1 means less
 * overhead), LATENCY (SampleTime percentiles; ratio = GiftKit's p99 / row's p99).
 */
record Area(
    String title,
    String benchmarkClass,
    Kind kind,
    String giftkit,
    String baseline,
    List<Row> rows,
    String goal,
    Function<Map<String, Result>, Verdict> judge) {

  enum Kind { THROUGHPUT, TIME, OVERHEAD, LATENCY }

  /** A benchmark method of the class, with its label; {@code noCompetitorWhy} when it has none. */
  record Row(String method, String label) {}

  /** Whether the goal was met, with the figure that decided it. */
  record Verdict(boolean met, String detail) {
    static Verdict of(boolean met, String detail) {
      return new Verdict(met, detail);
    }
  }
}
