package io.giftkit.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** One benchmark's figures, read from JMH's JSON output. */
final class Result {
  final String benchmark; // fully qualified method
  final String mode;
  final int threads;
  final double score;
  final double error;
  final String unit;
  final double bytesPerOp; // NaN without -prof gc
  final int samples;
  final Map<String, Double> percentiles = new LinkedHashMap<>();

  Result(JsonNode n) {
    benchmark = n.path("benchmark").asText();
    mode = n.path("mode").asText();
    threads = n.path("threads").asInt();
    JsonNode pm = n.path("primaryMetric");
    score = pm.path("score").asDouble();
    error = pm.path("scoreError").asDouble(Double.NaN);
    unit = pm.path("scoreUnit").asText();
    int count = 0;
    for (JsonNode fork : pm.path("rawDataHistogram")) { // SampleTime: [value, count] pairs per iteration
      for (JsonNode iteration : fork) {
        for (JsonNode pair : iteration) {
          count += pair.path(1).asInt();
        }
      }
    }
    if (count == 0) {
      for (JsonNode fork : pm.path("rawData")) {
        count += fork.size();
      }
    }
    samples = count;
    pm.path("scorePercentiles").fields().forEachRemaining(e -> percentiles.put(e.getKey(), e.getValue().asDouble()));
    JsonNode norm = n.path("secondaryMetrics").path("gc.alloc.rate.norm");
    bytesPerOp = norm.isMissingNode() ? Double.NaN : norm.path("score").asDouble();
  }

  /** The method name: {@code ClosedPathBenchmark.giftkit}. */
  String shortName() {
    String[] parts = benchmark.split("\\.");
    return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
  }

  double percentile(String p) {
    Double v = percentiles.get(p);
    return v == null ? Double.NaN : v;
  }
}
