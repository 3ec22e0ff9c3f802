package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
  /**
   * A {@code giftkit_…} or {@code hikaricp_…} series name, not a database name in a JDBC URL
   * ({@code …:3306/giftkit_control}).
   */
  private static final Pattern METRIC = Pattern.compile("(?<![/\\w])(giftkit|hikaricp)_[a-z0-9_]+");

  /** @return every {@code giftkit_…} and {@code hikaricp_…} series name the files under {@code deploy/} use */
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
    assertThat(metricsUsedByDeploy()).contains("giftkit_mq_lag_records", "giftkit_mq_record_age_seconds",
        "giftkit_breaker_state", "giftkit_demo_reconciliation_alerts", "hikaricp_connections_timeout_total",
        "giftkit_shard_split_brain").doesNotContain("giftkit_control");
  }

  /**
   * The alert rules are a Prometheus rule file: groups of rules, each with a name, an expression that
   * uses a GiftKit series, a severity and a summary; together they cover what the issue asks for
   * (consumer lag and age, breaker open, reconciliation alerts, a shard down).
   */
  @Test
  @SuppressWarnings("unchecked")
  void theAlertRulesAreWellFormedAndCoverTheMoneyPath() throws IOException {
    Map<String, Object> file = new Yaml(new LoaderOptions()).load(
        Files.readString(DEPLOY.resolve("prometheus/giftkit-alerts.yaml")));
    Set<String> alerts = new TreeSet<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
      assertThat(group.get("name")).isNotNull();
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        String alert = (String) rule.get("alert");
        assertThat(alert).as("rule name").matches("Giftkit[A-Za-z]+");
        assertThat(alerts.add(alert)).as("unique: %s", alert).isTrue();
        assertThat((String) rule.get("expr")).as(alert).containsPattern("(giftkit|hikaricp)_[a-z_]+");
        assertThat(balanced((String) rule.get("expr"))).as("%s's brackets", alert).isTrue();
        assertThat(((Map<String, String>) rule.get("labels")).get("severity")).as(alert).isIn("warning", "critical");
        assertThat(((Map<String, String>) rule.get("annotations")).get("summary")).as(alert).isNotBlank();
        Object pending = rule.get("for");
        if (pending != null) {
          assertThat(pending.toString()).as(alert).matches("\\d+[smh]");
        }
      }
    }
    assertThat(alerts).contains("GiftkitConsumerLagHigh", "GiftkitConsumerRecordsOld", "GiftkitBreakerOpen",
        "GiftkitReconciliationAlerts", "GiftkitShardConnectionTimeouts");
  }

  /** The Grafana dashboard is valid JSON with a uid, and every panel queries Prometheus. */
  @Test
  void theGrafanaDashboardIsWellFormed() throws IOException {
    tools.jackson.databind.JsonNode dashboard = tools.jackson.databind.json.JsonMapper.builder().build()
        .readTree(Files.readString(DEPLOY.resolve("grafana/giftkit-demo-dashboard.json")));
    assertThat(dashboard.path("uid").asString()).isEqualTo("giftkit-demo");
    assertThat(dashboard.path("panels").size()).isGreaterThanOrEqualTo(8);
    Set<Integer> ids = new TreeSet<>();
    for (tools.jackson.databind.JsonNode panel : dashboard.path("panels")) {
      assertThat(ids.add(panel.path("id").asInt())).as("unique panel id").isTrue();
      assertThat(panel.path("targets").size()).as(panel.path("title").asString()).isPositive();
      for (tools.jackson.databind.JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asString();
        assertThat(expr).as(panel.path("title").asString()).containsPattern("(giftkit|hikaricp)_[a-z_]+");
        assertThat(balanced(expr)).as("brackets of %s", expr).isTrue();
      }
    }
  }

  /** Round, square and curly brackets pair up (a cheap check that an expression was not cut short). */
  private static boolean balanced(String expr) {
    java.util.Deque<Character> open = new java.util.ArrayDeque<>();
    for (char c : expr.toCharArray()) {
      switch (c) {
        case '(', '[', '{' -> open.push(c);
        case ')', ']', '}' -> {
          if (open.isEmpty() || "([{".indexOf(open.pop()) != ")]}".indexOf(c)) {
            return false;
          }
        }
        default -> { }
      }
    }
    return open.isEmpty();
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
