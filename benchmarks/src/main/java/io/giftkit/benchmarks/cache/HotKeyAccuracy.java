package io.giftkit.benchmarks.cache;

import io.giftkit.cache.HotKey;
import io.giftkit.cache.HotKeyDetector;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Accuracy of {@link HotKeyDetector} against exact counts: a Zipf(1.0) stream over 1M keys, and
 * the AdaptSize CDN trace from {@code ../shared/data/traces/} (read in place with {@code xz -dc},
 * never copied). Prints precision and recall of the hot set for several share thresholds.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.giftkit.benchmarks.cache.HotKeyAccuracy [trace.xz]</pre>
 */
public final class HotKeyAccuracy {

  private HotKeyAccuracy() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Path trace = Path.of(args.length > 0 ? args[0] : "../shared/data/traces/adapt_size-request.trace.xz");
    Long[] zipf = HotKeyBenchmark.zipfStream(2_000_000, 1_000_000, 1.0, 7);
    System.out.println("| stream | records | distinct keys | hot share | sampling | truly hot | found | precision | recall |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (int sample : new int[] {1, 4, 8}) {
      for (double share : new double[] {0.01, 0.001}) {
        report("Zipf(1.0), 1M keys", List.of(zipf), share, sample);
      }
    }
    if (Files.exists(trace)) {
      List<Long> ids = readTrace(trace);
      for (int sample : new int[] {1, 4, 8}) {
        for (double share : new double[] {0.01, 0.005, 0.001}) {
          report("AdaptSize CDN trace", ids, share, sample);
        }
      }
    } else {
      System.out.println("(trace not found at " + trace + ")");
    }
  }

  private static void report(String name, List<Long> keys, double share, int sampleOneIn) {
    HotKeyDetector<Long> detector = HotKeyDetector.<Long>builder()
        .hotWhenShareAtLeast(share).coolRatio(1.0).minimumHotCount(1).sampleOneIn(sampleOneIn).build();
    Map<Long, Integer> exact = new HashMap<>();
    for (Long k : keys) {
      exact.merge(k, 1, Integer::sum);
      detector.record(k);
    }
    long threshold = (long) Math.ceil(share * keys.size());
    Set<Long> truth = exact.entrySet().stream().filter(e -> e.getValue() >= threshold)
        .map(Map.Entry::getKey).collect(Collectors.toSet());
    Set<Long> found = detector.hotKeys().stream().map(HotKey::key).collect(Collectors.toSet());
    Set<Long> hits = new HashSet<>(found);
    hits.retainAll(truth);
    System.out.printf("| %s | %d | %d | %.1f%% | 1 in %d | %d | %d | %.4f | %.4f |%n", name, keys.size(), exact.size(),
        share * 100, sampleOneIn, truth.size(), found.size(), found.isEmpty() ? 1.0 : (double) hits.size() / found.size(),
        truth.isEmpty() ? 1.0 : (double) hits.size() / truth.size());
  }

  private static List<Long> readTrace(Path trace) throws IOException, InterruptedException {
    Process xz = new ProcessBuilder("xz", "-dc", trace.toString()).redirectErrorStream(false).start();
    List<Long> ids = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(xz.getInputStream(), StandardCharsets.US_ASCII))) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] parts = line.trim().split("\\s+");
        if (parts.length >= 2) {
          ids.add(Long.parseLong(parts[1]));
        }
      }
    }
    if (xz.waitFor() != 0) {
      throw new IOException("xz -dc " + trace + " exited with " + xz.exitValue());
    }
    return ids;
  }
}
