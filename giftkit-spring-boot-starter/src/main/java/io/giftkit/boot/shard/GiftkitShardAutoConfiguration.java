package io.giftkit.boot.shard;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.boot.GiftkitSlowSqlBreakers;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.ShardedJdbc;
import io.giftkit.shard.SlowSqlBreakerConfig;
import io.giftkit.shard.SlowSqlBreakerListener;
import io.giftkit.shard.SlowSqlBreakerSnapshot;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The sharded order store from {@code giftkit.shard.*}: {@link ShardRouter}, {@link ShardDataSources}
 * (one pool per node, passwords never logged), {@link ShardedJdbc}, and, with {@code giftkit.shard.ddl},
 * this and next month's tables on every shard at start-up and on a schedule. With Micrometer, pool
 * and failover metrics; with Actuator's health, one indicator per node; with the endpoint, the
 * topology. With {@code giftkit.shard.slow-sql-breaker.enabled}, the slow-SQL breaker, heard by every
 * {@link SlowSqlBreakerListener} bean. Active when {@code giftkit.shard.nodes[0].primary.url} is set.
 */
@AutoConfiguration(after = GiftkitAutoConfiguration.class)
@ConditionalOnClass(ShardedJdbc.class)
@ConditionalOnProperty(prefix = "giftkit.shard", name = "nodes[0].primary.url")
@EnableConfigurationProperties(GiftkitShardProperties.class)
public final class GiftkitShardAutoConfiguration {

  static final String PREFIX = "giftkit.shard";

  @Bean
  @ConditionalOnMissingBean
  ShardRouter giftkitShardRouter(GiftkitShardProperties p, ObjectProvider<ShardCustomizer> customizers) {
    try {
      ShardRouter.Builder b = ShardRouter.builder(p.getLogicalTable()).shards(p.getNodes().size()).zone(p.getZone());
      if (p.getTableNamePattern() != null) {
        b.tableNamePattern(p.getTableNamePattern());
      }
      customizers.orderedStream().forEach(c -> c.customize(b));
      return b.build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  ShardDataSources giftkitShardDataSources(GiftkitShardProperties p, ObjectProvider<Site> site,
      ObjectProvider<ShardCustomizer> customizers) {
    try {
      ShardDataSources.Builder b = ShardDataSources.builder().maxPoolSize(p.getMaxPoolSize()).minIdle(p.getMinIdle())
          .connectionTimeout(p.getConnectionTimeout()).replicaRetryAfter(p.getReplicaRetryAfter());
      if (p.getTopologyCheck() != null) {
        b.topologyCheck(p.getTopologyCheck());
      }
      if (p.getMaxReplicaLag() != null) {
        b.maxReplicaLag(p.getMaxReplicaLag());
      }
      if (p.getLagCheck() != null) {
        b.lagCheck(p.getLagCheck());
      }
      Site local = site.getIfAvailable();
      if (local != null) {
        b.localSite(local);
      }
      for (int s = 0; s < p.getNodes().size(); s++) {
        GiftkitShardProperties.Shard shard = p.getNodes().get(s);
        GiftkitShardProperties.Node primary = shard.getPrimary();
        String at = PREFIX + ".nodes[" + s + "]";
        if (primary.getUrl() == null || primary.getUrl().isBlank()) {
          throw GiftkitPropertyException.invalid(at + ".primary.url", "must be set", String.valueOf(primary.getUrl()));
        }
        b.primary(s, primary.getUrl(), primary.getUsername(), primary.getPassword());
        for (GiftkitShardProperties.Node r : shard.getReplicas()) {
          b.replica(s, r.getUrl(), r.getUsername(), r.getPassword(), r.getSite() == null ? null : Site.of(r.getSite()));
        }
      }
      customizers.orderedStream().forEach(c -> c.customize(b));
      return b.build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  ShardedJdbc giftkitShardedJdbc(GiftkitShardProperties p, ShardRouter router, ShardDataSources nodes,
      ShardMetricsHolder slow, ObjectProvider<SlowSqlBreakerListener> breakerListeners) {
    ShardedJdbc jdbc;
    try {
      jdbc = new ShardedJdbc(router, nodes).slowThreshold(p.getSlowThreshold());
      if (p.getReadYourWrites() != null) {
        jdbc.readYourWrites(p.getReadYourWrites(), p.getReadYourWritesSlots());
      }
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
    SlowSqlBreakerConfig breaker = slowSqlBreakerConfig(p.getSlowSqlBreaker());
    if (p.getSlowSqlBreaker().isEnabled()) {
      jdbc.slowSqlBreaker(breaker);
    }
    breakerListeners.orderedStream().forEach(jdbc::addSlowSqlBreakerListener);
    jdbc.addSlowSqlListener((shard, table, elapsed, fingerprint) -> slow.slowStatements.increment());
    return jdbc;
  }

  /** Checked even while the breaker is off: a bad value fails start-up, not the day it is turned on. */
  static SlowSqlBreakerConfig slowSqlBreakerConfig(GiftkitShardProperties.SlowSqlBreaker b) {
    try {
      return SlowSqlBreakerConfig.builder().slowCallRateThreshold(b.getSlowCallRateThreshold())
          .minimumCalls(b.getMinimumCalls()).window(b.getWindow()).openDuration(b.getOpenDuration())
          .halfOpenProbes(b.getHalfOpenProbes()).maxTemplates(b.getMaxTemplates()).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX + ".slow-sql-breaker", e);
    }
  }

  /** Counts slow statements for the metrics (a bean so the binder and the store share it). */
  @Bean
  ShardMetricsHolder giftkitShardMetricsHolder() {
    return new ShardMetricsHolder();
  }

  /** Slow-statement count shared by the store and the metrics. */
  public static final class ShardMetricsHolder {
    final LongAdder slowStatements = new LongAdder();

    /** @return statements slower than the threshold so far */
    public long slowStatements() {
      return slowStatements.sum();
    }
  }

  /**
   * Ensures this and next month's tables at start-up, then every {@code table-check}; stopped with the
   * context. The DDL comes from {@code ddl} or {@code ddl-location}.
   */
  @Bean
  @org.springframework.boot.autoconfigure.condition.ConditionalOnExpression(
      "'${giftkit.shard.ddl:}' != '' || '${giftkit.shard.ddl-location:}' != ''")
  AutoCloseable giftkitShardTableLifecycle(GiftkitShardProperties p, ShardedJdbc jdbc,
      org.springframework.core.io.ResourceLoader resources) {
    String ddl = p.getDdl();
    if (ddl == null || ddl.isBlank()) {
      org.springframework.core.io.Resource r = resources.getResource(p.getDdlLocation());
      try (java.io.InputStream in = r.getInputStream()) {
        ddl = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
      } catch (java.io.IOException e) {
        throw GiftkitPropertyException.invalid(PREFIX + ".ddl-location", "must name a readable resource ("
            + e.getMessage() + ")", p.getDdlLocation());
      }
      if (ddl.endsWith(";")) {
        ddl = ddl.substring(0, ddl.length() - 1);
      }
    }
    try {
      return jdbc.scheduleTableLifecycle(ddl, p.getTableCheck(), Clock.systemUTC());
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  GiftkitEndpointContributor giftkitShardEndpointContributor(ShardRouter router, ShardDataSources nodes,
      ShardedJdbc jdbc) {
    return new GiftkitEndpointContributor() {
      @Override
      public String key() {
        return "shards";
      }

      @Override
      public Object describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logicalTable", router.logicalTable());
        m.put("zone", router.zone().getId());
        m.put("topology", nodes.topology());
        m.put("failovers", nodes.failovers());
        nodes.maxReplicaLag().ifPresent(d -> m.put("maxReplicaLag", d.toString()));
        m.put("slowSqlBreaker", slowSqlBreaker(jdbc));
        return m;
      }
    };
  }

  /** Lets the endpoint (with its write operations enabled) close a template's slow-SQL breakers. */
  @Bean
  @ConditionalOnMissingBean
  GiftkitSlowSqlBreakers giftkitSlowSqlBreakers(ShardedJdbc jdbc) {
    return jdbc::resetSlowSqlBreaker;
  }

  /** The slow-SQL breakers for the endpoint: off, or the settings, counts and every template not CLOSED. */
  static Map<String, Object> slowSqlBreaker(ShardedJdbc jdbc) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("enabled", jdbc.slowSqlBreakerConfig().isPresent());
    jdbc.slowSqlBreakerConfig().ifPresent(c -> {
      m.put("config", c.toString());
      m.put("rejections", jdbc.slowSqlRejections());
      m.put("trips", jdbc.slowSqlBreakerTrips());
      m.put("untracked", jdbc.slowSqlBreakerUntracked());
      List<Map<String, Object>> notClosed = new java.util.ArrayList<>();
      for (SlowSqlBreakerSnapshot s : jdbc.slowSqlBreakerSnapshots()) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("template", s.template());
        t.put("shard", s.shard());
        t.put("state", s.state().name());
        t.put("slowCallRate", s.slowCallRate());
        t.put("remainingCooldownMs", s.remainingCooldown().toMillis());
        t.put("rejections", s.rejections());
        notClosed.add(t);
      }
      m.put("notClosed", notClosed);
    });
    return m;
  }

  /** Metrics, when Micrometer is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class ShardMetricsConfiguration {

    /**
     * Each node pool reports through HikariCP's own Micrometer tracker ({@code hikaricp.connections},
     * {@code .active}, {@code .idle}, {@code .pending}, {@code .timeout}, {@code .usage} …, tag
     * {@code pool=giftkit-shard-<shard>-node-<node>}), when a single (or primary) registry exists.
     *
     * @param registry the application's meter registry
     * @return the customizer that sets the tracker on every node's pool
     */
    @Bean
    ShardCustomizer giftkitShardHikariMetrics(ObjectProvider<MeterRegistry> registry) {
      return new ShardCustomizer() {
        @Override
        public void customize(ShardDataSources.Builder builder) {
          MeterRegistry r = registry.getIfUnique();
          if (r != null) {
            builder.poolConfig(c -> c.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(r)));
          }
        }
      };
    }

    /**
     * {@code giftkit.shard.primary} (gauge per {@code shard}, {@code node}: 1 for the writable node),
     * {@code giftkit.shard.failovers} and
     * {@code giftkit.shard.slow.statements} (counters), {@code giftkit.shard.split.brain} (gauge per
     * {@code shard}: 1 while fenced). With lag checks: {@code giftkit.shard.replica.lag} (gauge per
     * {@code shard}, {@code node}, in seconds; see ReplicaLagMetrics),
     * {@code giftkit.shard.replica.lag.fallbacks} and {@code giftkit.shard.replica.stale.reads}
     * (counters). {@code giftkit.shard.read.your.writes} (counter): WEAK reads sent to the primary by
     * read-your-writes. With the slow-SQL breaker on: {@code giftkit.shard.slow.sql.breaker.open} (gauge
     * per {@code shard}: templates whose breaker there is OPEN or HALF_OPEN; templates are user SQL,
     * so they are never tags), {@code giftkit.shard.slow.sql.rejected} (counter: calls refused),
     * {@code giftkit.shard.slow.sql.breaker.trips} (counter: breakers opened) and
     * {@code giftkit.shard.slow.sql.breaker.untracked} (counter: calls of templates beyond max-templates).
     */
    /**
     * {@code giftkit.shard.replica.lag} with lag checks on: a row per replica with a measured lag (see
     * {@link ReplicaLagMetrics}).
     *
     * @param nodes the node pools
     * @return the binder (its refresher stops with the context)
     */
    @Bean(destroyMethod = "close")
    ReplicaLagMetrics giftkitShardReplicaLagMetrics(ShardDataSources nodes) {
      return new ReplicaLagMetrics(nodes);
    }

    @Bean
    MeterBinder giftkitShardMetrics(ShardDataSources nodes, ShardMetricsHolder slow, ShardedJdbc jdbc) {
      return registry -> {
        for (ShardDataSources.NodeStatus n : nodes.nodes()) {
          Tags tags = Tags.of("shard", Integer.toString(n.shard()), "node", Integer.toString(n.node()));
          Gauge.builder("giftkit.shard.primary", nodes, x -> status(x, n).primary() ? 1 : 0).tags(tags)
              .description("1 if the node is its shard's writable node now").register(registry);
        }
        for (int shard = 0; shard < nodes.shards(); shard++) {
          int sh = shard;
          Gauge.builder("giftkit.shard.split.brain", nodes, x -> x.splitBrain(sh) ? 1 : 0)
              .tags("shard", Integer.toString(shard))
              .description("1 while the shard is fenced: two of its nodes are writable, writes are refused")
              .register(registry);
        }
        if (nodes.maxReplicaLag().isPresent()) {
          FunctionCounter.builder("giftkit.shard.replica.lag.fallbacks", nodes, ShardDataSources::replicaLagFallbacks)
              .description("WEAK reads sent to the primary because every replica was over max-replica-lag")
              .register(registry);
          FunctionCounter.builder("giftkit.shard.replica.stale.reads", nodes, ShardDataSources::staleReplicaReads)
              .description("WEAK reads served by a replica over max-replica-lag because the primary could not")
              .register(registry);
        }
        FunctionCounter.builder("giftkit.shard.read.your.writes", jdbc, ShardedJdbc::readYourWritesReads)
            .description("WEAK reads sent to the primary because their uid wrote within the read-your-writes window")
            .register(registry);
        if (jdbc.slowSqlBreakerConfig().isPresent()) {
          for (int shard = 0; shard < nodes.shards(); shard++) {
            int sh = shard;
            Gauge.builder("giftkit.shard.slow.sql.breaker.open", jdbc, x -> x.slowSqlBreakersNotClosed(sh))
                .tags("shard", Integer.toString(shard))
                .description("statement templates whose slow-SQL breaker on the shard is OPEN or HALF_OPEN")
                .register(registry);
          }
          FunctionCounter.builder("giftkit.shard.slow.sql.rejected", jdbc, ShardedJdbc::slowSqlRejections)
              .description("calls refused by a slow-SQL breaker (nothing run)").register(registry);
          FunctionCounter.builder("giftkit.shard.slow.sql.breaker.trips", jdbc, ShardedJdbc::slowSqlBreakerTrips)
              .description("times a template's slow-SQL breaker on a shard opened").register(registry);
          FunctionCounter.builder("giftkit.shard.slow.sql.breaker.untracked", jdbc, ShardedJdbc::slowSqlBreakerUntracked)
              .description("calls of templates beyond max-templates, run unguarded").register(registry);
        }
        FunctionCounter.builder("giftkit.shard.failovers", nodes, ShardDataSources::failovers)
            .description("times a shard's writes moved to another node").register(registry);
        FunctionCounter.builder("giftkit.shard.slow.statements", slow, ShardMetricsHolder::slowStatements)
            .description("statements slower than giftkit.shard.slow-threshold").register(registry);
      };
    }

    private static ShardDataSources.NodeStatus status(ShardDataSources nodes, ShardDataSources.NodeStatus n) {
      for (ShardDataSources.NodeStatus s : nodes.nodes()) {
        if (s.shard() == n.shard() && s.node() == n.node()) {
          return s;
        }
      }
      return n;
    }
  }

  /** One health indicator per node, when Actuator's health is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(HealthIndicator.class)
  static class ShardHealthConfiguration {

    /**
     * A node that is down, or of a shard fenced for a split brain: the router keeps serving the other
     * shards (and the shard's other nodes), so one such node does not make the application DOWN.
     * Boot's default status order (DOWN, OUT_OF_SERVICE, UP, UNKNOWN) leaves it out of the aggregate
     * and maps it to HTTP 200; add it to {@code management.endpoint.health.status.order} (and
     * {@code http-mapping}) to have it count. Alert on the details or on {@code giftkit.shard.split.brain}.
     */
    static final org.springframework.boot.health.contributor.Status DEGRADED =
        new org.springframework.boot.health.contributor.Status("DEGRADED",
            "a node is down or its shard is fenced for a split brain; the other shards are served");

    /**
     * {@code /actuator/health/giftkitShards/shard-<s>-node-<n>}: UP if the node gives a valid
     * connection and its shard is not fenced for a split brain, else {@link #DEGRADED}.
     */
    @Bean
    @ConditionalOnMissingBean(name = "giftkitShardsHealthContributor")
    CompositeHealthContributor giftkitShardsHealthContributor(ShardDataSources nodes) {
      Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
      for (ShardDataSources.NodeStatus n : nodes.nodes()) {
        indicators.put("shard-" + n.shard() + "-node-" + n.node(), () -> nodeHealth(nodes, n));
      }
      return CompositeHealthContributor.fromMap(indicators);
    }

    static Health nodeHealth(ShardDataSources nodes, ShardDataSources.NodeStatus n) {
      ShardDataSources.NodeStatus now = ShardMetricsConfiguration.status(nodes, n);
      Health.Builder h = new Health.Builder().withDetail("url", n.url())
          .withDetail("role", now.primary() ? "primary" : "replica");
      if (n.site() != null) {
        h.withDetail("site", n.site().name());
      }
      boolean splitBrain = nodes.splitBrain(n.shard());
      if (splitBrain) {
        h.withDetail("splitBrain", true); // writes to the shard are refused until one node is read-only
      }
      try {
        nodes.ping(n.shard(), n.node());
        return (splitBrain ? h.status(DEGRADED) : h.up()).build();
      } catch (RuntimeException e) {
        return h.status(DEGRADED).withDetail("error", e.getMessage()).build();
      }
    }
  }
}
