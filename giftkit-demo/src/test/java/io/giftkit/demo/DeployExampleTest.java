package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment examples under {@code deploy/} are consistent: the HPA cannot scale to pods that
 * hold no partition. That every metric they query is served under exactly that name is checked
 * against a real scrape by {@link GiftFlowEndToEndTest} with {@link #metricsUsedByDeploy()}.
 */
class DeployExampleTest {

  static final Path DEPLOY = Path.of("deploy");
  /** A {@code giftkit_…} name, not a database name in a JDBC URL ({@code …:3306/giftkit_control}). */
  private static final Pattern METRIC = Pattern.compile("(?<![/\\w])giftkit_[a-z0-9_]+");

  /** @return every {@code giftkit_…} series name the files under {@code deploy/} use */
  static Set<String> metricsUsedByDeploy() throws IOException {
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.walk(DEPLOY)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Matcher m = METRIC.matcher(Files.readString(f));
        while (m.find()) {
          names.add(m.group());
        }
      }
    }
    return names;
  }

  /** @return the series names in a Prometheus scrape (comments left out) */
  static Set<String> seriesNames(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int end = line.indexOf('{');
        names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
      }
    }
    return names;
  }

  @Test
  void theDeployFilesQueryGiftkitMetrics() throws IOException {
    assertThat(metricsUsedByDeploy()).contains("giftkit_mq_lag_records").doesNotContain("giftkit_control");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theHpaNeverScalesToPodsWithoutAPartition() throws IOException {
    Yaml yaml = new Yaml(new LoaderOptions());
    Map<String, Object> hpa = yaml.load(Files.readString(DEPLOY.resolve("k8s/hpa.yaml")));
    int maxReplicas = (Integer) ((Map<String, Object>) hpa.get("spec")).get("maxReplicas");
    Map<String, String> config = null;
    for (Object doc : yaml.loadAll(Files.readString(DEPLOY.resolve("k8s/deployment.yaml")))) {
      Map<String, Object> d = (Map<String, Object>) doc;
      if ("ConfigMap".equals(d.get("kind"))) {
        config = (Map<String, String>) d.get("data");
      }
    }
    assertThat(config).as("the ConfigMap").isNotNull();
    int partitions = Integer.parseInt(config.get("GIFTKIT_DEMO_GIFT_TOPIC_PARTITIONS"));
    int concurrency = Integer.parseInt(config.get("GIFTKIT_MQ_CONSUMERS_SETTLEMENT_CONCURRENCY"));
    assertThat(maxReplicas * concurrency).as("maxReplicas %d x concurrency %d", maxReplicas, concurrency)
        .isLessThanOrEqualTo(partitions);
  }
}
