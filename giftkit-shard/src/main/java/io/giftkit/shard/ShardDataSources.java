package io.giftkit.shard;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.Checks;
import io.giftkit.core.Site;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HikariCP pool per shard primary and per replica, and the choice of node by
 * {@link Consistency}:
 *
 * <pre>{@code
 * ShardDataSources nodes = ShardDataSources.builder()
 *     .primary(0, "jdbc:mariadb://db0:3306/gifts", "app", secret)
 *     .replica(0, "jdbc:mariadb://db0-r1:3306/gifts", "app", secret, Site.of("a"))
 *     ...
 *     .localSite(Site.of("a"))
 *     .build();
 * try (Connection c = nodes.connection(3, Consistency.WEAK)) { ... }
 * }</pre>
 *
 * <p>Failure isolation: each pool has its own connection timeout (default 1 s) and pools start
 * without waiting for their database, so one shard down fails its own calls fast, with a
 * {@link ShardUnavailableException} naming shard, node, address and pool state, and never blocks
 * the other shards. A replica that fails to give a connection is skipped for
 * {@code replicaRetryAfter} (default 5 s); WEAK reads then go to another replica, else the primary.
 * With {@link Builder#maxReplicaLag}, WEAK reads also skip a replica that lags more than the bound
 * (measured with a heartbeat row on a daemon thread; the choice is made by the package-private
 * {@code WeakReads} and {@code ReplicaLag}).
 * A primary that could not be connected to (and no other node is writable) fails STRONG calls at
 * once for {@code primaryRetryAfter} (default 1 s; a pool that is only exhausted is not marked), so a down shard costs its callers one pool
 * timeout per second, not one each.
 *
 * <p>Which node is writable is looked up, not assumed: at a shard's first STRONG use, after failures
 * and refused writes, and every {@code topologyCheck}; a shard with more than one writable node is
 * fenced ({@link #splitBrain(int)}). That logic lives in the package-private {@code Topology}; this
 * class is past 400 lines because of its builder and the node-status and lag API the starter reads.
 *
 * <p>Thread-safe. Passwords are never logged; {@link #toString()} shows addresses only.
 */
public final class ShardDataSources implements AutoCloseable {

  /** Default name of the heartbeat table of lag checks: {@value}. */
  public static final String DEFAULT_HEARTBEAT_TABLE = "giftkit_heartbeat";

  private static final Logger LOG = LoggerFactory.getLogger(ShardDataSources.class);
  private static final java.util.regex.Pattern TABLE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_]{1,64}");

  private final ShardNode[][] nodes; // by shard: the configured primary first, then the replicas
  private final Topology topology; // by shard: the writable node, split-brain fences, look-ups
  private final Ticker ticker;
  private final long primaryRetryAfterNanos;
  private final ReplicaLag lag; // null: lag checks off
  private final WeakReads weakReads;

  private ShardDataSources(Builder b) {
    this.ticker = b.ticker;
    this.primaryRetryAfterNanos = b.primaryRetryAfter.toNanos();
    int shards = b.primaries.size();
    this.nodes = new ShardNode[shards][];
    for (int s = 0; s < shards; s++) {
      NodeSpec p = b.primaries.get(s);
      if (p == null) {
        throw Checks.invalid("primary(" + s + ")", "must be configured: shards are numbered 0 to " + (shards - 1)
            + " without gaps", null);
      }
      List<NodeSpec> rs = b.replicas.getOrDefault(s, List.of());
      nodes[s] = new ShardNode[rs.size() + 1];
      nodes[s][0] = node(s, 0, p, b);
      for (int r = 0; r < rs.size(); r++) {
        nodes[s][r + 1] = node(s, r + 1, rs.get(r), b);
      }
    }
    for (Integer shard : b.replicas.keySet()) {
      if (shard >= shards) {
        throw Checks.invalid("replica shard", "must have a primary (shards 0 to " + (shards - 1) + ")", shard);
      }
    }
    this.topology = new Topology(nodes, ticker, b.primaryRetryAfter);
    this.lag = b.maxReplicaLag == null ? null : new ReplicaLag(this, nodes, ticker, b.maxReplicaLag,
        b.lagCheck != null ? b.lagCheck : defaultLagCheck(b.maxReplicaLag), b.replicaRetryAfter, b.heartbeatTable,
        topology.listeners());
    this.weakReads = new WeakReads(nodes, b.localSite, ticker, b.replicaRetryAfter.toNanos(), lag, this::strong);
    if (b.topologyCheckInterval != null) {
      topology.startChecks(b.topologyCheckInterval);
    }
    if (b.eager) {
      for (ShardNode n : all()) {
        n.pool();
      }
      for (int s = 0; s < shards; s++) {
        topology.discover(s); // find each shard's writable node now rather than at its first use
      }
    }
    if (lag != null) {
      lag.start();
    }
  }

  /** A quarter of the bound, at least 5 ms (at most half of the 10 ms minimum bound). */
  private static Duration defaultLagCheck(Duration maxReplicaLag) {
    Duration quarter = maxReplicaLag.dividedBy(4);
    return quarter.compareTo(Duration.ofMillis(5)) < 0 ? Duration.ofMillis(5) : quarter;
  }

  private static ShardNode node(int shard, int index, NodeSpec spec, Builder b) {
    HikariConfig c = new HikariConfig();
    c.setPoolName("giftkit-shard-" + shard + "-node-" + index);
    c.setJdbcUrl(spec.url);
    c.setUsername(spec.user);
    c.setPassword(spec.password);
    c.setMaximumPoolSize(b.maxPoolSize);
    c.setMinimumIdle(Math.min(b.minIdle, b.maxPoolSize));
    c.setConnectionTimeout(b.connectionTimeout.toMillis());
    c.setInitializationFailTimeout(-1); // start without the database: a shard that is down must not stop the others
    String poolName = c.getPoolName();
    b.poolConfig.accept(c);
    if (!poolName.equals(c.getPoolName()) || !spec.url.equals(c.getJdbcUrl())
        || !java.util.Objects.equals(spec.user, c.getUsername())) {
      throw Checks.invalid("poolConfig", "must not change the pool name, JDBC URL or user of " + poolName,
          c.getPoolName() + " " + c.getJdbcUrl() + " " + c.getUsername());
    }
    return new ShardNode(shard, index, spec.url, spec.user, spec.site, c);
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the number of shards */
  public int shards() {
    return nodes.length;
  }

  /**
   * Returns a connection to the node {@code consistency} chooses. The caller closes it.
   *
   * @param shard the shard
   * @param consistency STRONG: the primary; WEAK: a healthy local replica, another replica, else the
   *     primary; with {@code maxReplicaLag}, only a replica within the bound (see {@link Builder#maxReplicaLag})
   * @return an open connection
   * @throws ShardUnavailableException if the chosen node (and, for WEAK, every fallback) fails
   */
  public Connection connection(int shard, Consistency consistency) {
    checkShard(shard);
    Checks.requireNonNull("consistency", consistency);
    if (consistency == Consistency.WEAK) {
      return weakReads.connection(shard, topology.writer(shard));
    }
    return strong(shard);
  }

  /** The STRONG path: the shard's writable node, following failovers; fenced shards throw. */
  private Connection strong(int shard) {
    topology.beforeStrong(shard); // start-up discovery; a split-brain fence throws here
    int w = topology.writer(shard);
    ShardNode primary = nodes[shard][w];
    long downUntil = primary.primaryDownUntil; // 0 almost always: no clock read on the healthy path
    long downFor = downUntil == 0 ? 0 : downUntil - ticker.read();
    if (downFor > 0) { // failed a moment ago: fail fast instead of every caller waiting out the pool's timeout
      throw new ShardUnavailableException(shard, primary.describe("primary") + " is unavailable (it failed less than "
          + TimeUnit.NANOSECONDS.toMillis(primaryRetryAfterNanos) + " ms ago: " + primary.lastFailure
          + "); next attempt in " + Math.max(1, TimeUnit.NANOSECONDS.toMillis(downFor)) + " ms", null);
    }
    try {
      Connection c = primary.pool().getConnection();
      if (primary.primaryDownUntil != 0) {
        primary.primaryDownUntil = 0; // it answers again: no caller is failed fast any more
      }
      return c;
    } catch (SQLException e) {
      // The writable node may have changed (a promotion): look once, then give up naming the node.
      // A shard without replicas has nowhere to move: looking would only wait out the pool again.
      if (nodes[shard].length > 1) {
        Topology.Look look = topology.lookUp(shard);
        if (look.fenced()) {
          topology.beforeStrong(shard); // throws the split-brain error naming the writable nodes
        }
        if (look.writer() != w) {
          return connect(nodes[shard][look.writer()]);
        }
      }
      if (unreachable(e)) {
        // the pool could not connect (the pool's timeout carries the last connection failure): the
        // node is down. A pool that is merely busy or slow to grow (no cause), an interrupted caller
        // or a server refusing more connections (error 1040) is not marked down.
        primary.lastFailure = e.getMessage();
        primary.primaryDownUntil = ticker.read() + primaryRetryAfterNanos;
      }
      throw new ShardUnavailableException(shard, primary.describe("primary") + " is unavailable: " + e.getMessage(), e);
    }
  }

  /**
   * Finds the shard's writable node ({@code @@read_only = 0} and {@code @@innodb_read_only = 0}) by
   * asking every node of the shard, and makes it the primary for STRONG reads and writes; if more
   * than one distinct server is writable, fences the shard ({@link #splitBrain(int)}). Called at a
   * shard's first STRONG use, on a primary's connection failure, on a write refused by a read-only
   * node, and every {@code topologyCheckInterval} if set.
   *
   * @param shard the shard
   * @return the index (in configuration order) of the writable node now in use
   */
  public int refreshTopology(int shard) {
    checkShard(shard);
    return topology.lookUp(shard).writer();
  }

  /** The look-up behind {@link #refreshTopology}, with whether a writable node was seen. */
  Topology.Look lookUpWriter(int shard) {
    checkShard(shard);
    return topology.lookUp(shard);
  }

  /**
   * @param shard the shard
   * @return whether the shard is fenced because more than one of its nodes said it is writable:
   *     STRONG connections to it fail with a {@link ShardUnavailableException} whose
   *     {@link ShardUnavailableException#splitBrain()} is true
   */
  public boolean splitBrain(int shard) {
    checkShard(shard);
    return topology.fenced(shard);
  }

  /** @return the index of the shard's writable node now (no look-up) */
  int writerOf(int shard) {
    return topology.writer(shard);
  }

  /**
   * The last lag measured for a replica (for metrics): an upper bound on how far behind the primary
   * it was at that moment. Empty when lag checks are off, the node is the shard's primary, no
   * measurement has finished yet, or the last one could not tell (heartbeat unreadable, no primary to
   * compare with: WEAK reads then treat the replica as too far behind).
   *
   * @param shard the shard
   * @param node the node's index in configuration order
   * @return the lag, or empty if unknown
   */
  public Optional<Duration> replicaLag(int shard, int node) {
    checkShard(shard);
    if (node < 0 || node >= nodes[shard].length) {
      throw Checks.invalid("node", "must be in [0, " + (nodes[shard].length - 1) + "]", node);
    }
    if (lag == null || node == topology.writer(shard)) {
      return Optional.empty();
    }
    return Optional.ofNullable(lag.lagOf(nodes[shard][node]));
  }

  /** @return the lag bound of WEAK reads, or empty if lag checks are off (the default) */
  public Optional<Duration> maxReplicaLag() {
    return lag == null ? Optional.empty() : Optional.of(lag.maxLag());
  }

  /**
   * @return how many WEAK reads went to the primary because every healthy replica of their shard was
   *     over {@code maxReplicaLag} (or its lag unknown)
   */
  public long replicaLagFallbacks() {
    return weakReads.lagFallbacks();
  }

  /**
   * @return how many WEAK reads a replica over {@code maxReplicaLag} served because the shard's primary
   *     could not (down, or fenced for a split brain): stale, but served
   */
  public long staleReplicaReads() {
    return weakReads.staleReads();
  }

  /** @return how many times a shard was fenced for a split brain */
  public long splitBrains() {
    return topology.splitBrains();
  }

  /**
   * @param listener hears primary changes and split brains (guarded: a listener that throws is
   *     logged and ignored)
   */
  public void addTopologyListener(TopologyListener listener) {
    topology.addListener(listener);
  }

  /**
   * Configuration warnings found while asking nodes for their role, e.g. a user that can write
   * despite {@code read_only} (SUPER). Each is also logged at WARN once.
   *
   * @return the warnings so far, oldest first
   */
  public List<String> warnings() {
    return topology.warnings();
  }

  /**
   * One node's role and pool state (for metrics and health).
   *
   * @param shard the shard
   * @param node the node's index in configuration order (0 = the configured primary)
   * @param primary whether it is the shard's writable node now
   * @param url its JDBC URL
   * @param site its site, or null
   * @param open whether its pool was opened (pools open on first use)
   * @param active connections in use
   * @param idle connections idle
   * @param pending threads waiting for a connection
   */
  public record NodeStatus(int shard, int node, boolean primary, String url, Site site, boolean open, int active,
      int idle, int pending) {}

  /** @return every node's role and pool state, shard by shard */
  public List<NodeStatus> nodes() {
    List<NodeStatus> out = new ArrayList<>();
    for (int s = 0; s < nodes.length; s++) {
      int w = topology.writer(s);
      for (int i = 0; i < nodes[s].length; i++) {
        ShardNode n = nodes[s][i];
        HikariDataSource p = n.pool;
        com.zaxxer.hikari.HikariPoolMXBean bean = p == null ? null : p.getHikariPoolMXBean();
        out.add(new NodeStatus(s, i, i == w, n.url, n.site, p != null, bean == null ? 0 : bean.getActiveConnections(),
            bean == null ? 0 : bean.getIdleConnections(), bean == null ? 0 : bean.getThreadsAwaitingConnection()));
      }
    }
    return out;
  }

  /**
   * Checks one node: takes a connection from its pool (opening the pool if needed) and validates it.
   *
   * @param shard the shard
   * @param node the node's index in configuration order
   * @throws ShardUnavailableException naming the node if it does not answer within the connection timeout
   */
  public void ping(int shard, int node) {
    checkShard(shard);
    if (node < 0 || node >= nodes[shard].length) {
      throw Checks.invalid("node", "must be in [0, " + (nodes[shard].length - 1) + "]", node);
    }
    ShardNode n = nodes[shard][node];
    try (Connection c = n.pool().getConnection()) {
      if (!c.isValid(2)) {
        throw new ShardUnavailableException(shard, n.describe("node") + " gave an invalid connection", null);
      }
    } catch (SQLException e) {
      throw new ShardUnavailableException(shard, n.describe("node") + " is unavailable: " + e.getMessage(), e);
    }
  }

  /** @return how many times a shard's writes moved to another node */
  public long failovers() {
    return topology.failovers();
  }

  /**
   * Returns each shard's current primary and replicas (addresses only).
   *
   * @return one line per shard, e.g. {@code shard 0: primary=jdbc:…, replicas=[jdbc:…]}
   */
  public List<String> topology() {
    List<String> lines = new ArrayList<>();
    for (int s = 0; s < nodes.length; s++) {
      int w = topology.writer(s);
      List<String> replicaUrls = new ArrayList<>();
      for (int i = 0; i < nodes[s].length; i++) {
        if (i != w) {
          replicaUrls.add(nodes[s][i].url);
        }
      }
      lines.add("shard " + s + ": primary=" + nodes[s][w].url + ", replicas=" + replicaUrls);
    }
    return lines;
  }

  /**
   * Returns the primary's pool of a shard (for transactions and frameworks that want a DataSource).
   *
   * @param shard the shard
   * @return its primary pool
   */
  public javax.sql.DataSource primary(int shard) {
    checkShard(shard);
    return nodes[shard][topology.writer(shard)].pool();
  }

  /**
   * Returns a DataSource view of a shard that connects to whichever node is the shard's primary at
   * each {@code getConnection()} (following failovers, like {@link #connection(int, Consistency)
   * connection(shard, STRONG)}), for code that takes a plain DataSource: an outbox relay, a per-shard
   * re-check scheduler. A shard that cannot give a connection throws an {@link java.sql.SQLException}
   * (SQLState {@code 08001}) naming the shard and node. Cheap; thread-safe.
   *
   * @param shard the shard
   * @return the view
   */
  public javax.sql.DataSource primaryView(int shard) {
    checkShard(shard);
    return new ShardPrimaryDataSource(this, shard);
  }

  private static boolean unreachable(SQLException e) {
    Throwable cause = e.getCause();
    if (cause == null || cause instanceof InterruptedException) {
      return false;
    }
    return !(cause instanceof SQLException se && (se.getErrorCode() == 1040 || "08004".equals(se.getSQLState())));
  }

  private Connection connect(ShardNode node) {
    try {
      return node.pool().getConnection();
    } catch (SQLException e) {
      throw new ShardUnavailableException(node.shard, node.describe("primary") + " is unavailable: " + e.getMessage(), e);
    }
  }

  private void checkShard(int shard) {
    if (shard < 0 || shard >= nodes.length) {
      throw Checks.invalid("shard", "must be in [0, " + (nodes.length - 1) + "]", shard);
    }
  }

  private List<ShardNode> all() {
    List<ShardNode> all = new ArrayList<>();
    for (ShardNode[] shard : nodes) {
      all.addAll(List.of(shard));
    }
    return all;
  }

  /** Closes every pool that was opened. */
  @Override
  public void close() {
    if (lag != null) {
      lag.close(); // waits for a round in flight, which uses the pools
    }
    topology.close();
    for (ShardNode n : all()) {
      HikariDataSource p = n.pool;
      if (p != null) {
        p.close();
      }
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ShardDataSources{");
    for (ShardNode n : all()) {
      sb.append(n.describe(n.role)).append(n.site == null ? "" : " site=" + n.site).append("; ");
    }
    return sb.append('}').toString();
  }

  private record NodeSpec(String url, String user, String password, Site site) {
    @Override
    public String toString() {
      return "NodeSpec{url=" + url + ", user=" + user + ", password=****, site=" + site + "}";
    }
  }

  /** Builds {@link ShardDataSources}. Not thread-safe. */
  public static final class Builder {
    private final Map<Integer, NodeSpec> primaries = new TreeMap<>();
    private final Map<Integer, List<NodeSpec>> replicas = new TreeMap<>();
    private int maxPoolSize = 10;
    private int minIdle = 1;
    private Duration connectionTimeout = Duration.ofSeconds(1);
    private Duration replicaRetryAfter = Duration.ofSeconds(5);
    private Duration primaryRetryAfter = Duration.ofSeconds(1);
    private Duration topologyCheckInterval;
    private Site localSite;
    private boolean eager;
    private Ticker ticker = Ticker.system();
    private Duration maxReplicaLag;
    private Duration lagCheck;
    private String heartbeatTable = DEFAULT_HEARTBEAT_TABLE;
    private java.util.function.Consumer<HikariConfig> poolConfig = c -> { };

    private Builder() {}

    /**
     * Configures a shard's primary. Shards must be numbered 0 to N-1 without gaps.
     *
     * @param shard the shard index; in [0, 1023]
     * @param jdbcUrl its JDBC URL; not blank
     * @param user the user
     * @param password the password (never logged)
     * @return this builder
     */
    public Builder primary(int shard, String jdbcUrl, String user, String password) {
      Checks.requireInRange("shard", shard, 0, 1_023);
      primaries.put(shard, new NodeSpec(Checks.requireNonBlank("jdbcUrl of shard " + shard, jdbcUrl), user, password, null));
      return this;
    }

    /**
     * Adds a replica of a shard.
     *
     * @param shard the shard index
     * @param jdbcUrl its JDBC URL; not blank
     * @param user the user
     * @param password the password (never logged)
     * @param site the replica's site, or null if unknown
     * @return this builder
     */
    public Builder replica(int shard, String jdbcUrl, String user, String password, Site site) {
      Checks.requireInRange("shard", shard, 0, 1_023);
      replicas.computeIfAbsent(shard, k -> new ArrayList<>())
          .add(new NodeSpec(Checks.requireNonBlank("jdbcUrl of a shard " + shard + " replica", jdbcUrl), user, password, site));
      return this;
    }

    /**
     * @param size connections per pool; in [1, 1000]; default 10
     * @return this builder
     */
    public Builder maxPoolSize(int size) {
      this.maxPoolSize = (int) Checks.requireInRange("maxPoolSize", size, 1, 1_000);
      return this;
    }

    /**
     * @param idle idle connections kept per pool; in [0, 1000]; default 1
     * @return this builder
     */
    public Builder minIdle(int idle) {
      this.minIdle = (int) Checks.requireInRange("minIdle", idle, 0, 1_000);
      return this;
    }

    /**
     * @param timeout how long to wait for a connection; at least 250 ms (HikariCP's minimum); default 1 s
     * @return this builder
     */
    public Builder connectionTimeout(Duration timeout) {
      Checks.requireNonNull("connectionTimeout", timeout);
      if (timeout.toMillis() < 250) {
        throw Checks.invalid("connectionTimeout", "must be at least 250ms", timeout);
      }
      this.connectionTimeout = timeout;
      return this;
    }

    /**
     * @param wait how long STRONG connections to a primary that just failed to give one fail at once
     *     (naming the shard and the failure) instead of each waiting out the pool's connection
     *     timeout; positive; default 1 s. After it, the next callers try the node again; a
     *     connection that succeeds ends it at once. A shard fenced for a split brain is asked
     *     again at most this often by its callers.
     * @return this builder
     */
    public Builder primaryRetryAfter(Duration wait) {
      this.primaryRetryAfter = Checks.requirePositive("primaryRetryAfter", wait);
      return this;
    }

    /**
     * @param wait how long a failed replica is skipped; positive; default 5 s
     * @return this builder
     */
    public Builder replicaRetryAfter(Duration wait) {
      this.replicaRetryAfter = Checks.requirePositive("replicaRetryAfter", wait);
      return this;
    }

    /**
     * Checks every shard's writable node this often (besides at first use and on failures). Off by
     * default. A split brain that arises between writes (an old primary coming back writable) is
     * seen only by a check, so turn it on where a node can be promoted.
     *
     * @param interval positive
     * @return this builder
     */
    public Builder topologyCheck(Duration interval) {
      this.topologyCheckInterval = Checks.requirePositive("topologyCheckInterval", interval);
      return this;
    }

    /**
     * Turns on lag checks: a WEAK read uses a replica only if it is known to hold every write
     * committed on the primary more than {@code bound} before the read. A daemon thread measures each
     * replica's lag every {@link #lagCheck} with a heartbeat row ({@link #heartbeatTable}, created on
     * each shard's primary and updated there about twice per check interval); a replica whose lag is
     * unknown counts as too far behind. When every healthy replica of a shard is over the bound, WEAK
     * reads go to the primary ({@link ShardDataSources#replicaLagFallbacks()}), and if the primary
     * cannot serve them, to a replica anyway ({@link ShardDataSources#staleReplicaReads()}). Off by
     * default: it writes to every shard database.
     *
     * @param bound in [10 ms, 1 h]
     * @return this builder
     */
    public Builder maxReplicaLag(Duration bound) {
      Checks.requireNonNull("maxReplicaLag", bound);
      if (bound.compareTo(Duration.ofMillis(10)) < 0 || bound.compareTo(Duration.ofHours(1)) > 0) {
        throw Checks.invalid("maxReplicaLag", "must be in [10ms, 1h]", bound);
      }
      this.maxReplicaLag = bound;
      return this;
    }

    /**
     * @param interval how often replica lag is measured (with {@link #maxReplicaLag}); at least 5 ms
     *     and at most half of {@code maxReplicaLag}; default a quarter of {@code maxReplicaLag}
     * @return this builder
     */
    public Builder lagCheck(Duration interval) {
      Checks.requireNonNull("lagCheck", interval);
      if (interval.compareTo(Duration.ofMillis(5)) < 0) {
        throw Checks.invalid("lagCheck", "must be at least 5ms", interval);
      }
      this.lagCheck = interval;
      return this;
    }

    /**
     * @param table the heartbeat table of lag checks, in every shard's database; {@code [A-Za-z0-9_]},
     *     1 to 64 characters; default {@value ShardDataSources#DEFAULT_HEARTBEAT_TABLE}
     * @return this builder
     */
    public Builder heartbeatTable(String table) {
      this.heartbeatTable = Checks.requireMatches("heartbeatTable", table, TABLE_NAME,
          "letters, digits and '_', 1 to 64 characters");
      return this;
    }

    /**
     * @param site the local site: WEAK reads prefer its replicas
     * @return this builder
     */
    public Builder localSite(Site site) {
      this.localSite = site;
      return this;
    }

    /**
     * @param eager open every pool and find each shard's writable node at build instead of on first
     *     use; default false
     * @return this builder
     */
    public Builder eager(boolean eager) {
      this.eager = eager;
      return this;
    }

    /**
     * Adjusts each node's HikariCP settings before its pool is created, e.g. HikariCP's own metrics
     * ({@code config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))}: series
     * {@code hikaricp.connections.*} tagged {@code pool=giftkit-shard-<shard>-node-<node>}), driver
     * properties or an init statement. Called once per node at {@link #build()}, after the builder's own
     * settings; the JDBC URL, user, password and pool name are GiftKit's and must not be changed.
     * Customizers add up: each call adds one, run in the order added.
     *
     * @param customizer called with each node's configuration
     * @return this builder
     */
    public Builder poolConfig(java.util.function.Consumer<HikariConfig> customizer) {
      this.poolConfig = this.poolConfig.andThen(Checks.requireNonNull("poolConfig", customizer));
      return this;
    }

    /**
     * @param ticker time source for replica health; default the system ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /**
     * Builds the pools (lazily opened unless eager).
     *
     * @return the data sources
     * @throws io.giftkit.core.InvalidConfigException if no shard is configured or there is a gap
     */
    public ShardDataSources build() {
      if (primaries.isEmpty()) {
        throw Checks.invalid("primaries", "must configure at least shard 0", "none");
      }
      if (lagCheck != null) {
        if (maxReplicaLag == null) {
          throw Checks.invalid("lagCheck", "needs maxReplicaLag (lag checks are off without it)", lagCheck);
        }
        if (lagCheck.multipliedBy(2).compareTo(maxReplicaLag) > 0) {
          throw Checks.invalid("lagCheck", "must be at most half of maxReplicaLag (" + maxReplicaLag.toMillis()
              + "ms)", lagCheck);
        }
      }
      return new ShardDataSources(this); // a gap in the numbering is reported by the constructor
    }
  }
}
