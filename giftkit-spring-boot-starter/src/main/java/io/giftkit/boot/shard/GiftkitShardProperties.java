package io.giftkit.boot.shard;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code giftkit.shard.*}: the sharded order store. Active when {@code giftkit.shard.nodes} lists at
 * least one shard.
 */
@ConfigurationProperties("giftkit.shard")
public class GiftkitShardProperties {

  /** The logical table; physical tables are named by the table-name pattern, e.g. gift_order_202611. */
  private String logicalTable = "gift_order";

  /** The month tables' name pattern: {table} plus {yyyyMM}, or {yyyy} and {MM}. */
  private String tableNamePattern;

  /** The zone month boundaries are computed in (e.g. Asia/Shanghai); never the JVM default. */
  private String zone = "UTC";

  /** The shards, in order: shard i is nodes[i]; a uid goes to shard uid % nodes.size(). */
  private List<Shard> nodes = new ArrayList<>();

  /** Connections per node pool at most. */
  private int maxPoolSize = 10;

  /** Idle connections kept per node pool. */
  private int minIdle = 1;

  /** How long a caller waits for a connection before the shard counts as unavailable. */
  private Duration connectionTimeout = Duration.ofSeconds(1);

  /** After a replica fails, weak reads skip it for this long. */
  private Duration replicaRetryAfter = Duration.ofSeconds(5);

  /** How often every shard's writable node is looked for (failover detection); unset: only on failures. */
  private Duration topologyCheck;

  /**
   * WEAK reads skip a replica whose lag is over this bound (measured with a heartbeat row,
   * giftkit_heartbeat, created in every shard database and updated on each primary); when every
   * replica of a shard is over it, they go to the primary. 10ms to 1h; unset: off (replicas are used
   * whatever their lag).
   */
  private Duration maxReplicaLag;

  /** How often replica lag is measured (with max-replica-lag); at most half of it; unset: a quarter of it. */
  private Duration lagCheck;

  /**
   * After a write for a uid, that uid's WEAK reads go to the primary for this long (read-your-writes,
   * within one instance); at least max-replica-lag for reads after it to see the write. Unset: off.
   */
  private Duration readYourWrites;

  /** Slots of the read-your-writes table of recent writers (bounded memory); a power of two. */
  private int readYourWritesSlots = 65_536;

  /** Statements slower than this are reported (giftkit.shard.slow.statements, a WARN once per template). */
  private Duration slowThreshold = Duration.ofMillis(200);

  /** A DDL template with {table} run on every shard for this and next month at start-up and then every table-check interval. */
  private String ddl;

  /** Where to read the DDL template from instead of ddl, e.g. classpath:db/gift_order.sql. */
  private String ddlLocation;

  /** How often the month tables are ensured (with ddl). */
  private Duration tableCheck = Duration.ofHours(1);

  /** The slow-SQL breaker: per (statement template, shard), fails a too-often-slow template fast for a cooldown. */
  private final SlowSqlBreaker slowSqlBreaker = new SlowSqlBreaker();

  public SlowSqlBreaker getSlowSqlBreaker() {
    return slowSqlBreaker;
  }

  public String getLogicalTable() {
    return logicalTable;
  }

  public void setLogicalTable(String logicalTable) {
    this.logicalTable = logicalTable;
  }

  public String getTableNamePattern() {
    return tableNamePattern;
  }

  public void setTableNamePattern(String tableNamePattern) {
    this.tableNamePattern = tableNamePattern;
  }

  public String getZone() {
    return zone;
  }

  public void setZone(String zone) {
    this.zone = zone;
  }

  public List<Shard> getNodes() {
    return nodes;
  }

  public void setNodes(List<Shard> nodes) {
    this.nodes = nodes;
  }

  public int getMaxPoolSize() {
    return maxPoolSize;
  }

  public void setMaxPoolSize(int maxPoolSize) {
    this.maxPoolSize = maxPoolSize;
  }

  public int getMinIdle() {
    return minIdle;
  }

  public void setMinIdle(int minIdle) {
    this.minIdle = minIdle;
  }

  public Duration getConnectionTimeout() {
    return connectionTimeout;
  }

  public void setConnectionTimeout(Duration connectionTimeout) {
    this.connectionTimeout = connectionTimeout;
  }

  public Duration getReplicaRetryAfter() {
    return replicaRetryAfter;
  }

  public void setReplicaRetryAfter(Duration replicaRetryAfter) {
    this.replicaRetryAfter = replicaRetryAfter;
  }

  public Duration getTopologyCheck() {
    return topologyCheck;
  }

  public void setTopologyCheck(Duration topologyCheck) {
    this.topologyCheck = topologyCheck;
  }

  public Duration getMaxReplicaLag() {
    return maxReplicaLag;
  }

  public void setMaxReplicaLag(Duration maxReplicaLag) {
    this.maxReplicaLag = maxReplicaLag;
  }

  public Duration getLagCheck() {
    return lagCheck;
  }

  public void setLagCheck(Duration lagCheck) {
    this.lagCheck = lagCheck;
  }

  public Duration getReadYourWrites() {
    return readYourWrites;
  }

  public void setReadYourWrites(Duration readYourWrites) {
    this.readYourWrites = readYourWrites;
  }

  public int getReadYourWritesSlots() {
    return readYourWritesSlots;
  }

  public void setReadYourWritesSlots(int readYourWritesSlots) {
    this.readYourWritesSlots = readYourWritesSlots;
  }

  public Duration getSlowThreshold() {
    return slowThreshold;
  }

  public void setSlowThreshold(Duration slowThreshold) {
    this.slowThreshold = slowThreshold;
  }

  public String getDdl() {
    return ddl;
  }

  public void setDdl(String ddl) {
    this.ddl = ddl;
  }

  public String getDdlLocation() {
    return ddlLocation;
  }

  public void setDdlLocation(String ddlLocation) {
    this.ddlLocation = ddlLocation;
  }

  public Duration getTableCheck() {
    return tableCheck;
  }

  public void setTableCheck(Duration tableCheck) {
    this.tableCheck = tableCheck;
  }

  /**
   * The slow-SQL breaker (off by default): when, in the window, at least minimum-calls calls of a
   * statement template ran on a shard and at least slow-call-rate-threshold percent of them took
   * slow-threshold or longer, that template's calls on that shard fail at once
   * (SlowSqlRejectedException) for open-duration, while other templates and shards keep running;
   * then half-open-probes calls decide. Values are checked even while it is off.
   */
  public static class SlowSqlBreaker {

    /** Whether the breaker acts; off by default. */
    private boolean enabled = false;

    /** Slow-call rate, in percent of the window's calls, that opens a template's breaker on a shard; in (0, 100]. */
    private double slowCallRateThreshold = 50;

    /** Calls of the template on the shard the window must hold before the rate is judged; 1 to 10000. */
    private int minimumCalls = 10;

    /** The sliding window (time-based, 10 buckets); 100ms to 10m. */
    private Duration window = Duration.ofSeconds(10);

    /** How long an open breaker refuses the template's calls on the shard before probing; 10ms to 1h. */
    private Duration openDuration = Duration.ofSeconds(5);

    /** Probe calls let through after the cooldown: one slow probe re-opens, this many fast ones close; 1 to 100. */
    private int halfOpenProbes = 3;

    /** The most statement templates tracked (bounded memory); further ones run unguarded; 1 to 100000. */
    private int maxTemplates = 1_000;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public double getSlowCallRateThreshold() {
      return slowCallRateThreshold;
    }

    public void setSlowCallRateThreshold(double slowCallRateThreshold) {
      this.slowCallRateThreshold = slowCallRateThreshold;
    }

    public int getMinimumCalls() {
      return minimumCalls;
    }

    public void setMinimumCalls(int minimumCalls) {
      this.minimumCalls = minimumCalls;
    }

    public Duration getWindow() {
      return window;
    }

    public void setWindow(Duration window) {
      this.window = window;
    }

    public Duration getOpenDuration() {
      return openDuration;
    }

    public void setOpenDuration(Duration openDuration) {
      this.openDuration = openDuration;
    }

    public int getHalfOpenProbes() {
      return halfOpenProbes;
    }

    public void setHalfOpenProbes(int halfOpenProbes) {
      this.halfOpenProbes = halfOpenProbes;
    }

    public int getMaxTemplates() {
      return maxTemplates;
    }

    public void setMaxTemplates(int maxTemplates) {
      this.maxTemplates = maxTemplates;
    }
  }

  /** One shard: its primary and its replicas. */
  public static class Shard {

    /** The shard's primary. */
    private Node primary = new Node();

    /** The shard's replicas (weak reads prefer one of the local site). */
    private List<Node> replicas = new ArrayList<>();

    public Node getPrimary() {
      return primary;
    }

    public void setPrimary(Node primary) {
      this.primary = primary;
    }

    public List<Node> getReplicas() {
      return replicas;
    }

    public void setReplicas(List<Node> replicas) {
      this.replicas = replicas;
    }
  }

  /** One database node. */
  public static class Node {

    /** Its JDBC URL. */
    private String url;

    /** The user. */
    private String username;

    /** The password (never logged). */
    private String password;

    /** Its site (replicas), e.g. a. */
    private String site;

    public String getUrl() {
      return url;
    }

    public void setUrl(String url) {
      this.url = url;
    }

    public String getUsername() {
      return username;
    }

    public void setUsername(String username) {
      this.username = username;
    }

    public String getPassword() {
      return password;
    }

    public void setPassword(String password) {
      this.password = password;
    }

    public String getSite() {
      return site;
    }

    public void setSite(String site) {
      this.site = site;
    }
  }
}
