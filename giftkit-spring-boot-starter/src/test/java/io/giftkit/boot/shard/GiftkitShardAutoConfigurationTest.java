package io.giftkit.boot.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpoint;
import io.giftkit.boot.GiftkitEndpointAutoConfiguration;
import io.giftkit.boot.GiftkitFailureAnalyzer;
import io.giftkit.boot.GiftkitWritableEndpoint;
import io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration;
import io.giftkit.shard.Consistency;
import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.ShardedJdbc;
import io.giftkit.shard.SlowSqlBreakerListener;
import io.giftkit.shard.SlowSqlRejectedException;
import io.giftkit.testing.MariaDbExtension;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** giftkit.shard.*: two real MariaDB databases as shards, and a third shard on a closed port. */
class GiftkitShardAutoConfigurationTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final String DDL = "CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL)";

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GiftkitAutoConfiguration.class, GiftkitBreakerAutoConfiguration.class,
          GiftkitShardAutoConfiguration.class, GiftkitEndpointAutoConfiguration.class));

  private String[] shards(String db0, String db1, String url2) {
    return new String[] {
        "giftkit.shard.zone=Asia/Shanghai", "giftkit.shard.ddl=" + DDL, "giftkit.shard.connection-timeout=500ms",
        "giftkit.shard.nodes[0].primary.url=" + MARIADB.jdbcUrl(db0),
        "giftkit.shard.nodes[0].primary.username=" + MARIADB.user(),
        "giftkit.shard.nodes[0].primary.password=" + MARIADB.password(),
        "giftkit.shard.nodes[1].primary.url=" + MARIADB.jdbcUrl(db1),
        "giftkit.shard.nodes[1].primary.username=" + MARIADB.user(),
        "giftkit.shard.nodes[1].primary.password=" + MARIADB.password(),
        "giftkit.shard.nodes[2].primary.url=" + url2,
        "giftkit.shard.nodes[2].primary.username=app",
        "giftkit.shard.nodes[2].primary.password=never-shown",
        "management.endpoints.web.exposure.include=giftkit"};
  }

  @Test
  void shardsFromPropertiesWithTablesHealthMetricsAndTopology() throws Exception {
    String db0 = MARIADB.createDatabase("s0");
    String db1 = MARIADB.createDatabase("s1");
    SimpleMeterRegistry hikariMeters = new SimpleMeterRegistry();
    runner.withBean(io.micrometer.core.instrument.MeterRegistry.class, () -> hikariMeters)
        .withPropertyValues(shards(db0, db1, "jdbc:mariadb://127.0.0.1:1/x?connectTimeout=200")).run(context -> {
      ShardRouter router = context.getBean(ShardRouter.class);
      assertThat(router.shards()).isEqualTo(3);
      assertThat(router.zone().getId()).isEqualTo("Asia/Shanghai");
      ShardedJdbc orders = context.getBean(ShardedJdbc.class);
      Instant now = Instant.now();
      assertThat(orders.insertIfAbsent(4, now, "INSERT IGNORE INTO {table} (order_id, uid) VALUES (?, ?)", 1L, 4L))
          .isTrue();
      String table = router.table(YearMonth.from(now.atZone(router.zone())));
      try (Connection c = MARIADB.newConnection(db1); Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
        rs.next();
        assertThat(rs.getInt(1)).as("uid 4 → shard 4 %% 3 = 1, this month's table made by the ddl").isEqualTo(1);
      }
      assertThat(orders.query(4, now, Consistency.STRONG, "SELECT uid FROM {table} WHERE order_id = ?",
          rs -> rs.getLong(1), 1L)).containsExactly(4L);

      CompositeHealthContributor health = context.getBean("giftkitShardsHealthContributor",
          CompositeHealthContributor.class);
      assertThat(((HealthIndicator) health.getContributor("shard-0-node-0")).health().getStatus()).isEqualTo(Status.UP);
      var down = ((HealthIndicator) health.getContributor("shard-2-node-0")).health();
      assertThat(down.getStatus()).as("one node down does not make the application DOWN").isEqualTo(
          GiftkitShardAutoConfiguration.ShardHealthConfiguration.DEGRADED);
      assertThat(down.getDetails().get("error").toString()).contains("shard 2").doesNotContain("never-shown");
      assertThat(org.springframework.boot.health.actuate.endpoint.StatusAggregator.getDefault()
          .getAggregateStatus(java.util.Set.of(Status.UP, down.getStatus())))
          .as("Boot's default aggregation of UP shards and a DEGRADED one").isEqualTo(Status.UP);

      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      context.getBean("giftkitShardMetrics", MeterBinder.class).bindTo(meters);
      assertThat(hikariMeters.get("hikaricp.connections.active").tags("pool", "giftkit-shard-1-node-0").gauge().value())
          .as("HikariCP's own pool metrics, through its Micrometer tracker").isZero();
      assertThat(hikariMeters.get("hikaricp.connections.timeout").tags("pool", "giftkit-shard-1-node-0").counter()
          .count()).isZero();
      assertThat(meters.find("giftkit.shard.pool.connections").meter()).as("no hand-made pool gauge").isNull();
      assertThat(meters.get("giftkit.shard.primary").tags("shard", "1", "node", "0").gauge().value()).isEqualTo(1);
      assertThat(meters.get("giftkit.shard.failovers").functionCounter().count()).isZero();
      assertThat(meters.get("giftkit.shard.split.brain").tags("shard", "0").gauge().value()).isZero();

      @SuppressWarnings("unchecked")
      Map<String, Object> shards = (Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit().get("shards");
      assertThat(shards.get("topology").toString()).contains("shard 0: primary=" + MARIADB.jdbcUrl(db0))
          .doesNotContain("never-shown");
      assertThat(context.getBean(ShardDataSources.class).toString()).doesNotContain("never-shown");
    });
  }

  @Test
  void replicaLagChecksAndReadYourWritesFromPropertiesWithMetrics() throws Exception {
    String db = MARIADB.createDatabase("lag");
    // the same database stands in for a replica that is never behind: its heartbeat is the primary's
    runner.withPropertyValues("giftkit.shard.ddl=" + DDL,
        "giftkit.shard.nodes[0].primary.url=" + MARIADB.jdbcUrl(db),
        "giftkit.shard.nodes[0].primary.username=" + MARIADB.user(),
        "giftkit.shard.nodes[0].primary.password=" + MARIADB.password(),
        "giftkit.shard.nodes[0].replicas[0].url=" + MARIADB.jdbcUrl(db),
        "giftkit.shard.nodes[0].replicas[0].username=" + MARIADB.user(),
        "giftkit.shard.nodes[0].replicas[0].password=" + MARIADB.password(),
        "giftkit.shard.max-replica-lag=500ms", "giftkit.shard.lag-check=100ms",
        "giftkit.shard.read-your-writes=2s").run(context -> {
          ShardDataSources nodes = context.getBean(ShardDataSources.class);
          ShardedJdbc orders = context.getBean(ShardedJdbc.class);
          assertThat(nodes.maxReplicaLag()).hasValue(Duration.ofMillis(500));
          assertThat(orders.readYourWritesWindow()).isEqualTo(Duration.ofSeconds(2));
          await().atMost(Duration.ofSeconds(20)).until(() -> nodes.replicaLag(0, 1).isPresent());

          Instant now = Instant.now();
          assertThat(orders.insertIfAbsent(4, now, "INSERT IGNORE INTO {table} (order_id, uid) VALUES (?, ?)", 9L, 4L))
              .isTrue();
          assertThat(orders.query(4, now, Consistency.WEAK, "SELECT order_id FROM {table} WHERE uid = ?",
              rs -> rs.getLong(1), 4L)).containsExactly(9L);
          assertThat(orders.readYourWritesReads()).as("the writer's WEAK read went to the primary").isEqualTo(1);

          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean("giftkitShardMetrics", MeterBinder.class).bindTo(meters);
          context.getBean(ReplicaLagMetrics.class).bindTo(meters);
          assertThat(meters.get("giftkit.shard.replica.lag").tags("shard", "0", "node", "1").gauge().value())
              .isBetween(0.0, 0.5);
          assertThat(meters.find("giftkit.shard.replica.lag").tags("shard", "0", "node", "0").gauge())
              .as("the primary has no row (no NaN)").isNull();
          assertThat(meters.find("giftkit.shard.replica.lag").gauges()).as("no NaN anywhere")
              .allSatisfy(g -> assertThat(g.value()).isNotNaN());
          assertThat(meters.get("giftkit.shard.read.your.writes").functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.shard.replica.lag.fallbacks").functionCounter().count())
              .isEqualTo(nodes.replicaLagFallbacks());
          assertThat(meters.get("giftkit.shard.replica.stale.reads").functionCounter().count()).isZero();
        });
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.max-replica-lag=5ms").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.shard.max-replica-lag must be in [10ms, 1h], but was 5ms"));
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.read-your-writes=1s", "giftkit.shard.read-your-writes-slots=1000").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.shard.read-your-writes-slots must be a power of two in [16, 16777216], but was 1000"));
  }

  @Test
  void slowSqlBreakerFromPropertiesWithMetricsAndTheOpenTemplateInTheEndpoint() throws Exception {
    String db = MARIADB.createDatabase("slowsql");
    String slow = "SELECT order_id FROM {table} WHERE uid = ? AND SLEEP(?) = 0";
    java.util.List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    runner.withPropertyValues("giftkit.shard.ddl=" + DDL,
        "giftkit.shard.nodes[0].primary.url=" + MARIADB.jdbcUrl(db),
        "giftkit.shard.nodes[0].primary.username=" + MARIADB.user(),
        "giftkit.shard.nodes[0].primary.password=" + MARIADB.password(),
        "giftkit.shard.slow-threshold=100ms",
        "giftkit.shard.slow-sql-breaker.enabled=true",
        "giftkit.shard.slow-sql-breaker.slow-call-rate-threshold=60",
        "giftkit.shard.slow-sql-breaker.minimum-calls=2",
        "giftkit.shard.slow-sql-breaker.window=30s",
        "giftkit.shard.slow-sql-breaker.open-duration=10m",
        "giftkit.shard.slow-sql-breaker.half-open-probes=2",
        "giftkit.shard.slow-sql-breaker.max-templates=50",
        "management.endpoints.web.exposure.include=giftkit", "giftkit.endpoint.write-operations-enabled=true")
        .withBean(SlowSqlBreakerListener.class, () -> (template, shard, from, to, rate) ->
            heard.add(shard + "|" + from + ">" + to + "|" + template))
        .run(context -> {
          ShardedJdbc orders = context.getBean(ShardedJdbc.class);
          assertThat(orders.slowSqlBreakerConfig()).hasValueSatisfying(c -> assertThat(c).hasToString(
              "SlowSqlBreakerConfig{slowCallRateThreshold=60.0, minimumCalls=2, window=30s, openDuration=10m,"
                  + " halfOpenProbes=2, maxTemplates=50}"));
          Instant now = Instant.now();
          orders.insertIfAbsent(4, now, "INSERT IGNORE INTO {table} (order_id, uid) VALUES (?, ?)", 1L, 4L);
          orders.query(4, now, Consistency.STRONG, slow, rs -> rs.getLong(1), 4L, 0.15); // SLEEP runs once per row
          orders.query(4, now, Consistency.STRONG, slow, rs -> rs.getLong(1), 4L, 0.15);
          assertThatThrownBy(() -> orders.query(4, now, Consistency.STRONG, slow, rs -> rs.getLong(1), 4L, 0.0))
              .isInstanceOf(SlowSqlRejectedException.class);
          assertThat(heard).as("a listener bean hears it").containsExactly("0|CLOSED>OPEN|" + slow);

          SimpleMeterRegistry meters = new SimpleMeterRegistry();
          context.getBean("giftkitShardMetrics", MeterBinder.class).bindTo(meters);
          assertThat(meters.get("giftkit.shard.slow.sql.breaker.open").tags("shard", "0").gauge().value()).isEqualTo(1);
          assertThat(meters.get("giftkit.shard.slow.sql.rejected").functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.shard.slow.sql.breaker.trips").functionCounter().count()).isEqualTo(1);
          assertThat(meters.get("giftkit.shard.slow.sql.breaker.untracked").functionCounter().count()).isZero();

          @SuppressWarnings("unchecked")
          Map<String, Object> shards = (Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit().get("shards");
          @SuppressWarnings("unchecked")
          Map<String, Object> breaker = (Map<String, Object>) shards.get("slowSqlBreaker");
          assertThat(breaker).containsEntry("enabled", true).containsEntry("rejections", 1L).containsEntry("trips", 1L);
          assertThat(breaker.get("notClosed")).asList().singleElement().asInstanceOf(
              org.assertj.core.api.InstanceOfAssertFactories.MAP)
              .containsEntry("template", slow).containsEntry("shard", 0).containsEntry("state", "OPEN")
              .containsEntry("slowCallRate", 100.0).containsEntry("rejections", 1L);

          GiftkitWritableEndpoint writable = context.getBean(GiftkitWritableEndpoint.class);
          assertThat(writable.resetSlowSqlBreaker(slow)).as("the operator closes it").isEqualTo(Map.of("reset", 1));
          assertThat(orders.query(4, now, Consistency.STRONG, slow, rs -> rs.getLong(1), 4L, 0.0)).containsExactly(1L);
          assertThat(heard).endsWith("0|OPEN>CLOSED|" + slow);
          assertThat(writable.resetSlowSqlBreaker(slow)).isEqualTo(Map.of("reset", 0));
        });
  }

  /** Actuator maps the reset next to the other operations (a clash would fail discovery). */
  @Test
  void theSlowSqlResetIsAPostOnTheEndpointRootOnlyWithWriteOperations() {
    ApplicationContextRunner web = runner.withPropertyValues(
        "giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x", "management.endpoints.web.exposure.include=giftkit");
    web.withPropertyValues("giftkit.endpoint.write-operations-enabled=true").run(context ->
        assertThat(giftkitOperations(context)).contains("POST giftkit", "POST giftkit/{name}"));
    web.run(context -> assertThat(giftkitOperations(context)).noneMatch(o -> o.startsWith("POST")));
  }

  private static List<String> giftkitOperations(org.springframework.context.ApplicationContext context) {
    return new org.springframework.boot.actuate.endpoint.web.annotation.WebEndpointDiscoverer(context,
        new org.springframework.boot.actuate.endpoint.invoke.convert.ConversionServiceParameterValueMapper(),
        org.springframework.boot.actuate.endpoint.web.EndpointMediaTypes.DEFAULT, List.of(), List.of(), List.of(),
        List.of(), List.of()).getEndpoints().stream().filter(e -> e.getEndpointId().toString().equals("giftkit")).findFirst().orElseThrow()
        .getOperations().stream()
        .map(o -> o.getRequestPredicate().getHttpMethod() + " " + o.getRequestPredicate().getPath()).toList();
  }

  @Test
  void slowSqlBreakerIsOffByDefaultAndItsBadValuesNameTheProperty() {
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "management.endpoints.web.exposure.include=giftkit").run(context -> {
      ShardedJdbc orders = context.getBean(ShardedJdbc.class);
      assertThat(orders.slowSqlBreakerConfig()).isEmpty();
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      context.getBean("giftkitShardMetrics", MeterBinder.class).bindTo(meters);
      assertThat(meters.find("giftkit.shard.slow.sql.rejected").functionCounter()).isNull();
      @SuppressWarnings("unchecked")
      Map<String, Object> shards = (Map<String, Object>) context.getBean(GiftkitEndpoint.class).giftkit().get("shards");
      assertThat(shards.get("slowSqlBreaker")).isEqualTo(Map.of("enabled", false));
    });
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.slow-sql-breaker.slow-call-rate-threshold=150").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .as("checked even while off").contains(
                "giftkit.shard.slow-sql-breaker.slow-call-rate-threshold must be in (0, 100], but was 150.0"));
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.slow-sql-breaker.enabled=true", "giftkit.shard.slow-sql-breaker.open-duration=2h").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.shard.slow-sql-breaker.open-duration must be in [10ms, 1h], but was 2h"));
  }

  @Test
  void aShardCustomizerTunesTheRouterAfterTheProperties() {
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x")
        .withBean(ShardCustomizer.class, () -> new ShardCustomizer() {
          @Override
          public void customize(ShardRouter.Builder builder) {
            builder.tableNamePattern("{table}_m{yyyyMM}");
          }
        })
        .run(context -> assertThat(context.getBean(ShardRouter.class).table(YearMonth.of(2026, 11)))
            .isEqualTo("gift_order_m202611"));
  }

  @Test
  void theDdlCanComeFromAResourceAndAMissingOneIsNamed() throws Exception {
    String db = MARIADB.createDatabase("loc");
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=" + MARIADB.jdbcUrl(db),
        "giftkit.shard.nodes[0].primary.username=" + MARIADB.user(),
        "giftkit.shard.nodes[0].primary.password=" + MARIADB.password(),
        "giftkit.shard.ddl-location=classpath:db/gift_order.sql").run(context -> {
          ShardRouter router = context.getBean(ShardRouter.class);
          String table = router.table(YearMonth.from(Instant.now().atZone(router.zone())));
          try (Connection c = MARIADB.newConnection(db); Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
          }
        });
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=" + MARIADB.jdbcUrl(db),
        "giftkit.shard.ddl-location=classpath:db/missing.sql").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .startsWith("giftkit.shard.ddl-location must name a readable resource"));
  }

  @Test
  void offWithoutNodesAndBadSettingsNameTheProperty() {
    runner.run(context -> assertThat(context).doesNotHaveBean(ShardedJdbc.class));
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.zone=Mars/Olympus").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.shard.zone").contains("Mars/Olympus"));
    runner.withPropertyValues("giftkit.shard.nodes[0].primary.url=jdbc:mariadb://127.0.0.1:1/x",
        "giftkit.shard.nodes[1].replicas[0].url=jdbc:mariadb://127.0.0.1:1/y").run(context ->
        assertThat(new GiftkitFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
            .contains("giftkit.shard.nodes[1].primary.url must be set, but was null"));
  }
}
