package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.Site;
import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against real MariaDB: ten throw-away databases are the ten shards. */
class ShardedJdbcTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  static final String DDL = "CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
      + " amount BIGINT NOT NULL, created_at BIGINT NOT NULL, KEY uid_time (uid, created_at))";
  static final String INSERT = "INSERT IGNORE INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)";
  static final YearMonth OCT = YearMonth.of(2026, 10);
  static final YearMonth NOV = YearMonth.of(2026, 11);
  static final YearMonth DEC = YearMonth.of(2026, 12);

  static final List<String> databases = new ArrayList<>();
  static ShardRouter router;
  static ShardDataSources nodes;
  static ShardedJdbc orders;

  @BeforeAll
  static void shards() {
    ShardDataSources.Builder b = ShardDataSources.builder().connectionTimeout(Duration.ofSeconds(2));
    for (int s = 0; s < 10; s++) {
      String db = MARIADB.createDatabase("shard" + s);
      databases.add(db);
      b.primary(s, MARIADB.jdbcUrl(db), MARIADB.user(), MARIADB.password());
    }
    router = ShardRouter.builder("gift_order").build();
    nodes = b.build();
    orders = new ShardedJdbc(router, nodes);
    assertThat(orders.ensureTables(DDL, OCT, NOV)).isEqualTo(20);
  }

  @AfterAll
  static void close() {
    nodes.close();
  }

  static Instant in(YearMonth m, int day) {
    return m.atDay(day).atTime(12, 0).toInstant(ZoneOffset.UTC);
  }

  static long count(int shard, String table, String where) throws SQLException {
    try (Connection c = MARIADB.newConnection(databases.get(shard)); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table + " WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void rowsLandInTheirShardAndMonthTable() throws SQLException {
    for (long uid = 1000; uid < 1020; uid++) {
      Instant at = in(uid % 2 == 0 ? OCT : NOV, 15);
      assertThat(orders.insertIfAbsent(uid, at, INSERT, uid * 10, uid, 100, at.toEpochMilli())).isTrue();
    }
    for (long uid = 1000; uid < 1020; uid++) {
      int shard = (int) (uid % 10);
      String table = uid % 2 == 0 ? "gift_order_202610" : "gift_order_202611";
      String other = uid % 2 == 0 ? "gift_order_202611" : "gift_order_202610";
      assertThat(count(shard, table, "order_id = " + uid * 10)).isEqualTo(1);
      assertThat(count(shard, other, "order_id = " + uid * 10)).isZero();
      assertThat(count((shard + 1) % 10, table, "order_id = " + uid * 10)).isZero();
    }
  }

  @Test
  void crossMonthQueriesGoNewestFirstAndHonourTheLimit() {
    long uid = 2003;
    for (int i = 0; i < 5; i++) {
      Instant oct = in(OCT, 1 + i);
      Instant nov = in(NOV, 1 + i);
      orders.insertIfAbsent(uid, oct, INSERT, 20_000 + i, uid, i, oct.toEpochMilli());
      orders.insertIfAbsent(uid, nov, INSERT, 21_000 + i, uid, i, nov.toEpochMilli());
    }
    String sql = "SELECT order_id FROM {table} WHERE uid = ? ORDER BY created_at DESC LIMIT ?";
    List<Long> seven = orders.queryMonths(uid, OCT, DEC, Consistency.STRONG, sql, rs -> rs.getLong(1), 7, uid);
    assertThat(seven).containsExactly(21_004L, 21_003L, 21_002L, 21_001L, 21_000L, 20_004L, 20_003L);
    List<Long> all = orders.queryMonths(uid, OCT, DEC, Consistency.STRONG, sql, rs -> rs.getLong(1), 100, uid);
    assertThat(all).hasSize(10);
    assertThatThrownBy(() -> orders.queryMonths(uid, YearMonth.of(2024, 1), DEC, Consistency.STRONG, sql,
        rs -> rs.getLong(1), 10, uid)).hasMessageStartingWith("months from 2024-01 to 2026-12 must be 1 to 12 months");
  }

  @Test
  void readsOfAMissingMonthAreEmptyAndWritesFailClearly() {
    YearMonth never = YearMonth.of(2030, 5); // no test creates it
    assertThat(orders.query(5, in(never, 1), Consistency.STRONG, "SELECT order_id FROM {table} WHERE uid = ?",
        rs -> rs.getLong(1), 5L)).isEmpty();
    assertThatThrownBy(() -> orders.update(5, in(never, 1), INSERT, 1L, 5L, 1L, 1L))
        .isInstanceOf(ShardedJdbc.ShardWriteException.class)
        .hasMessageStartingWith("table gift_order_203005 does not exist on shard 5; create month tables ahead");
  }

  /** 16 threads insert the same order at once: exactly one row, exactly one caller told it was new. */
  @Test
  void insertIfAbsentUnderSixteenThreadsMakesOneRow() throws Exception {
    long uid = 4_242;
    Instant at = in(NOV, 20);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger created = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        if (orders.insertIfAbsent(uid, at, INSERT, 777_777L, uid, 500, at.toEpochMilli())) {
          created.incrementAndGet();
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(created).hasValue(1);
    assertThat(count(2, "gift_order_202611", "order_id = 777777")).isEqualTo(1);
  }

  @Test
  void tableLifecycleIsSafeWhenFourInstancesRace() throws Exception {
    YearMonth jan = YearMonth.of(2027, 1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> futures = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        return orders.ensureTables(DDL, DEC, jan);
      }));
    }
    start.countDown();
    for (Future<Integer> f : futures) {
      assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(20);
    }
    pool.shutdown();
    for (int s = 0; s < 10; s++) {
      assertThat(count(s, "gift_order_202612", "1=1")).isZero();
      assertThat(count(s, "gift_order_202701", "1=1")).isZero();
    }
    assertThatThrownBy(() -> orders.ensureTables("CREATE TABLE {table} (id INT)", DEC))
        .hasMessageStartingWith("ddlTemplate must be CREATE TABLE IF NOT EXISTS {table} (...)");
  }

  @Test
  void oneShardDownFailsFastNamingItWhileTheOthersServe() throws Exception {
    ShardDataSources.Builder b = ShardDataSources.builder().connectionTimeout(Duration.ofSeconds(1));
    for (int s = 0; s < 10; s++) {
      String url = s == 3 ? "jdbc:mariadb://127.0.0.1:1/" + databases.get(s) + "?connectTimeout=200"
          : MARIADB.jdbcUrl(databases.get(s));
      b.primary(s, url, MARIADB.user(), s == 3 ? "not-logged-secret" : MARIADB.password());
    }
    try (ShardDataSources broken = b.build()) {
      ShardedJdbc jdbc = new ShardedJdbc(router, broken);
      long start = System.nanoTime();
      assertThatThrownBy(() -> jdbc.query(13, in(NOV, 1), Consistency.STRONG,
          "SELECT order_id FROM {table} WHERE uid = ?", rs -> rs.getLong(1), 13L))
          .isInstanceOf(ShardUnavailableException.class)
          .hasMessageStartingWith("shard 3 primary (jdbc:mariadb://127.0.0.1:1/")
          .hasMessageContaining("total=")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-logged"));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      long again = System.nanoTime();
      assertThatThrownBy(() -> jdbc.query(23, in(NOV, 1), Consistency.STRONG,
          "SELECT order_id FROM {table} WHERE uid = ?", rs -> rs.getLong(1), 23L))
          .isInstanceOf(ShardUnavailableException.class)
          .hasMessageContaining("it failed less than 1000 ms ago")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-logged"));
      assertThat(Duration.ofNanos(System.nanoTime() - again)).as("right after a failure: at once, no pool wait")
          .isLessThan(Duration.ofMillis(200));
      for (long uid = 0; uid < 10; uid++) {
        if (uid != 3) {
          long u = uid;
          assertThat(jdbc.query(u, in(NOV, 1), Consistency.STRONG, "SELECT order_id FROM {table} WHERE uid = ?",
              rs -> rs.getLong(1), u)).isNotNull();
        }
      }
      assertThat(broken.toString()).doesNotContain("not-logged");
      assertThatThrownBy(() -> broken.ping(3, 0)).isInstanceOf(ShardUnavailableException.class)
          .hasMessageStartingWith("shard 3 node (jdbc:mariadb://127.0.0.1:1/")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-logged"));
      broken.ping(4, 0);
      java.time.YearMonth later = java.time.YearMonth.of(2031, 1);
      assertThatThrownBy(() -> jdbc.ensureTables(DDL, later)).hasMessageStartingWith("creating tables on shard 3 failed");
      try (java.sql.Connection c = broken.connection(9, Consistency.STRONG);
          java.sql.ResultSet rs = c.getMetaData().getTables(null, null, router.table(later), null)) {
        assertThat(rs.next()).as("shards after the down one still get their tables").isTrue();
      }
      assertThatThrownBy(() -> broken.primaryView(3).getConnection()).isInstanceOf(java.sql.SQLException.class)
          .hasMessageStartingWith("shard 3 primary (jdbc:mariadb://127.0.0.1:1/")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-logged"));
      assertThat(broken.nodes()).hasSize(10).allSatisfy(n -> {
        assertThat(n.primary()).isTrue();
        assertThat(n.open()).isTrue();
        assertThat(n.active()).isZero();
      });
      assertThat(broken.failovers()).isZero();
    }
  }

  @Test
  void weakReadsGoToALocalReplicaAndFallBackToThePrimary() throws SQLException {
    // A "replica" here is another database holding different rows, so the test can tell who answered.
    String replicaDb = MARIADB.createDatabase("shard0-replica");
    String remoteDb = MARIADB.createDatabase("shard0-remote");
    for (String db : List.of(replicaDb, remoteDb)) {
      try (Connection c = MARIADB.newConnection(db); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE who (name VARCHAR(20))");
        s.execute("INSERT INTO who VALUES ('" + (db.equals(replicaDb) ? "local-replica" : "remote-replica") + "')");
      }
    }
    try (Connection c = MARIADB.newConnection(databases.get(0)); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS who (name VARCHAR(20))");
      s.execute("DELETE FROM who");
      s.execute("INSERT INTO who VALUES ('primary')");
    }
    ShardDataSources.Builder b = ShardDataSources.builder().localSite(Site.of("a"));
    b.primary(0, MARIADB.jdbcUrl(databases.get(0)), MARIADB.user(), MARIADB.password());
    b.replica(0, MARIADB.jdbcUrl(remoteDb), MARIADB.user(), MARIADB.password(), Site.of("b"));
    b.replica(0, MARIADB.jdbcUrl(replicaDb), MARIADB.user(), MARIADB.password(), Site.of("a"));
    try (ShardDataSources withReplicas = b.build()) {
      assertThat(who(withReplicas, Consistency.WEAK)).isEqualTo("local-replica");
      assertThat(who(withReplicas, Consistency.STRONG)).isEqualTo("primary");
    }
    ShardDataSources.Builder down = ShardDataSources.builder().connectionTimeout(Duration.ofSeconds(1));
    down.primary(0, MARIADB.jdbcUrl(databases.get(0)), MARIADB.user(), MARIADB.password());
    down.replica(0, "jdbc:mariadb://127.0.0.1:1/x?connectTimeout=200", MARIADB.user(), "", Site.of("a"));
    try (ShardDataSources replicaDown = down.build()) {
      assertThat(who(replicaDown, Consistency.WEAK)).isEqualTo("primary");
    }
  }

  private static String who(ShardDataSources ds, Consistency consistency) throws SQLException {
    try (Connection c = ds.connection(0, consistency); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT name FROM who")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void slowStatementsAreReportedWithoutBoundValues() {
    List<String> slow = new ArrayList<>();
    ShardedJdbc jdbc = new ShardedJdbc(router, nodes).slowThreshold(Duration.ofMillis(50));
    jdbc.addSlowSqlListener((shard, table, elapsed, fingerprint) ->
        slow.add(shard + "|" + table + "|" + fingerprint + "|" + (elapsed.toMillis() >= 50)));
    jdbc.query(7, in(NOV, 2), Consistency.STRONG,
        "SELECT   order_id FROM {table}   WHERE uid = ? UNION ALL SELECT SLEEP(0.1)", rs -> rs.getLong(1), 7L);
    jdbc.query(7, in(NOV, 2), Consistency.STRONG, "SELECT order_id FROM {table} WHERE uid = ?", rs -> rs.getLong(1), 7L);
    assertThat(slow).containsExactly(
        "7|gift_order_202611|SELECT order_id FROM {table} WHERE uid = ? UNION ALL SELECT SLEEP(0.1)|true");
  }

  @Test
  void aTransactionRunsOnThePrimaryAndRollsBackWhole() throws SQLException {
    long uid = 5_005;
    Instant at = in(NOV, 3);
    long seen = orders.inTransaction(uid, at, (c, route) -> {
      try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO " + route.table()
          + " (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)")) {
        ps.setLong(1, 50_050);
        ps.setLong(2, uid);
        ps.setLong(3, 1);
        ps.setLong(4, at.toEpochMilli());
        ps.executeUpdate();
      }
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + route.table() + " WHERE order_id = 50050")) {
        rs.next();
        return rs.getLong(1); // read-your-write inside the transaction
      }
    });
    assertThat(seen).isEqualTo(1);
    assertThatThrownBy(() -> orders.inTransaction(uid, at, (c, route) -> {
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO " + route.table() + " (order_id, uid, amount, created_at) VALUES (50051, 5005, 1, 1)");
        s.executeUpdate("INSERT INTO " + route.table() + " (order_id, uid, amount, created_at) VALUES (50050, 5005, 1, 1)");
      }
      return null;
    })).isInstanceOf(ShardedJdbc.ShardWriteException.class).hasMessageContaining("shard 5");
    assertThat(count(5, "gift_order_202611", "order_id = 50051")).as("rolled back whole").isZero();
  }

  record Order(long id, long uid, Instant at) {}

  @Test
  void batchInsertsGroupByShardAndMonthAndEachGroupIsAllOrNothing() throws SQLException {
    List<Order> batch = new ArrayList<>();
    for (long uid = 600; uid < 603; uid++) {
      batch.add(new Order(uid * 1_000 + 1, uid, in(OCT, 9)));
      batch.add(new Order(uid * 1_000 + 2, uid, in(NOV, 9)));
      batch.add(new Order(uid * 1_000 + 3, uid, in(NOV, 10)));
    }
    String insert = "INSERT INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)";
    assertThat(orders.batchInsert(batch, Order::uid, Order::at, insert,
        o -> new Object[] {o.id(), o.uid(), 5L, o.at().toEpochMilli()})).isEqualTo(9);
    for (long uid = 600; uid < 603; uid++) {
      int shard = (int) (uid % 10);
      assertThat(count(shard, "gift_order_202610", "uid = " + uid)).isEqualTo(1);
      assertThat(count(shard, "gift_order_202611", "uid = " + uid)).isEqualTo(2);
    }
    List<Order> clash = List.of(new Order(609_001, 609, in(NOV, 1)), new Order(600_002, 600, in(NOV, 1)));
    assertThatThrownBy(() -> orders.batchInsert(clash, Order::uid, Order::at, insert,
        o -> new Object[] {o.id(), 600L, 5L, o.at().toEpochMilli()})).isInstanceOf(ShardedJdbc.ShardWriteException.class);
  }

  @Test
  void retentionDropsOrArchivesOnlyOldMonthsAndOnlyWhenAsked() throws SQLException {
    YearMonth aug = YearMonth.of(2026, 8);
    YearMonth sep = YearMonth.of(2026, 9);
    orders.ensureTables(DDL, aug, sep);
    Instant now = in(NOV, 15);
    assertThat(orders.retire(now, 3, 6, "archive_")).as("keep Sep, Oct, Nov; archive Aug").isEqualTo(10);
    assertThat(orders.retire(now, 3, 6, null)).as("nothing older is left").isZero();
    try (Connection c = MARIADB.newConnection(databases.get(4)); ResultSet rs = c.getMetaData()
        .getTables(c.getCatalog(), null, "%", new String[] {"TABLE"})) {
      List<String> tables = new ArrayList<>();
      while (rs.next()) {
        tables.add(rs.getString("TABLE_NAME"));
      }
      assertThat(tables).contains("archive_gift_order_202608", "gift_order_202609", "gift_order_202610",
          "gift_order_202611").doesNotContain("gift_order_202608");
    }
    assertThatThrownBy(() -> orders.retire(now, 1, 6, null)).hasMessage("keepMonths must be in [2, 1200], but was 1");
  }

  @Test
  void theLifecycleScheduleEnsuresThisAndNextMonthAtOnce() throws Exception {
    java.time.Clock march = java.time.Clock.fixed(Instant.parse("2027-03-31T23:00:00Z"), ZoneOffset.UTC);
    try (AutoCloseable schedule = orders.scheduleTableLifecycle(DDL, Duration.ofHours(1), march)) {
      for (int s = 0; s < 10; s++) {
        assertThat(count(s, "gift_order_202703", "1=1")).isZero();
        assertThat(count(s, "gift_order_202704", "1=1")).isZero();
      }
    }
  }

  @Test
  void badConfigurationIsNamed() {
    assertThatThrownBy(() -> ShardDataSources.builder().build()).hasMessage("primaries must configure at least shard 0, but was none");
    assertThatThrownBy(() -> ShardDataSources.builder().primary(0, "jdbc:x", "u", "p").primary(2, "jdbc:y", "u", "p").build())
        .hasMessageStartingWith("primary(1) must be configured");
    assertThatThrownBy(() -> ShardDataSources.builder().primary(0, " ", "u", "p"))
        .hasMessage("jdbcUrl of shard 0 must not be blank, but was \" \"");
    assertThatThrownBy(() -> ShardDataSources.builder().connectionTimeout(Duration.ofMillis(10)))
        .hasMessage("connectionTimeout must be at least 250ms, but was 10ms");
    assertThatThrownBy(() -> nodes.connection(10, Consistency.STRONG)).hasMessage("shard must be in [0, 9], but was 10");
    assertThatThrownBy(() -> orders.update(1, in(NOV, 1), "DELETE FROM gift_order_202611")).hasMessageStartingWith(
        "sql must contain the {table} placeholder");
  }

  /** poolConfig reaches every node's pool (here an init statement); GiftKit's own settings cannot be changed. */
  @Test
  void poolConfigAdjustsEachNodePoolButNotItsIdentity() throws SQLException {
    ShardDataSources.Builder b = ShardDataSources.builder()
        .poolConfig(c -> c.setConnectionInitSql("SET @giftkit_pool = '" + c.getPoolName() + "'"));
    b.primary(0, MARIADB.jdbcUrl(databases.get(0)), MARIADB.user(), MARIADB.password());
    b.replica(0, MARIADB.jdbcUrl(databases.get(1)), MARIADB.user(), MARIADB.password(), Site.of("a"));
    try (ShardDataSources nodes = b.build();
        Connection c = nodes.connection(0, Consistency.STRONG);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT @giftkit_pool")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("giftkit-shard-0-node-0");
    }
    ShardDataSources.Builder renaming = ShardDataSources.builder().poolConfig(c -> c.setPoolName("mine"));
    renaming.primary(0, MARIADB.jdbcUrl(databases.get(0)), MARIADB.user(), MARIADB.password());
    assertThatThrownBy(renaming::build).hasMessageStartingWith(
        "poolConfig must not change the pool name, JDBC URL or user of giftkit-shard-0-node-0, but was mine");
    assertThatThrownBy(() -> ShardDataSources.builder().poolConfig(null)).hasMessageContaining("poolConfig");
  }
}
