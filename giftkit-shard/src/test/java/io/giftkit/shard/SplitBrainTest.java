package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Split brain on two real MariaDB servers (shard 0; the second replicates from the first) and a
 * throw-away database on the local MariaDB (shard 1): with both servers of shard 0 writable, writes
 * to shard 0 fail with an error naming the shard and both nodes, shard 1 keeps working, and making
 * one server read-only again lets writes through to the other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SplitBrainTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  static final Instant NOW = SwitchoverTest.NOW;
  static final long SHARD0_UID = 10; // uid % 2 == 0
  static final long SHARD1_UID = 11;

  static ReplicatedPair pair;
  static ShardRouter router = ShardRouter.builder("gift_order").shards(2).build();
  static String table = router.route(SHARD0_UID, NOW).table();
  static String shard1Db;
  static final AtomicLong ids = new AtomicLong();

  @BeforeAll
  static void start() throws Exception {
    pair = new ReplicatedPair();
    shard1Db = MARIADB.createDatabase("splitbrain1");
  }

  @AfterAll
  static void stop() throws Exception {
    pair.close();
  }

  static ShardDataSources.Builder nodes(String user, String password) {
    return ShardDataSources.builder()
        .primary(0, pair.jdbcUrl(0), user, password)
        .replica(0, pair.jdbcUrl(1), user, password, null)
        .primary(1, MARIADB.jdbcUrl(shard1Db), MARIADB.user(), MARIADB.password())
        .connectionTimeout(Duration.ofSeconds(2))
        .primaryRetryAfter(Duration.ofMillis(200));
  }

  static long count(int node) throws SQLException {
    try (Connection c = java.sql.DriverManager.getConnection(pair.jdbcUrl(node), ReplicatedPair.APP_USER,
        ReplicatedPair.APP_PASSWORD); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static boolean write(ShardedJdbc orders, long uid) {
    long id = ids.incrementAndGet();
    return orders.insertIfAbsent(uid, NOW, ShardedJdbcTest.INSERT, id, uid, 10L, NOW.toEpochMilli());
  }

  static final class Recorder implements TopologyListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void onSplitBrain(int shard, List<String> writableUrls) {
      events.add("split " + shard + " " + writableUrls);
    }

    @Override
    public void onSplitBrainResolved(int shard, String primaryUrl) {
      events.add("resolved " + shard + " " + primaryUrl);
    }
  }

  static void assertSplitBrainError(ShardedJdbc orders) {
    assertThatThrownBy(() -> write(orders, SHARD0_UID)).isInstanceOfSatisfying(ShardUnavailableException.class, e -> {
      assertThat(e.splitBrain()).isTrue();
      assertThat(e.shard()).isZero();
      assertThat(e.getMessage()).contains("shard 0 has 2 writable nodes").contains(pair.jdbcUrl(0))
          .contains(pair.jdbcUrl(1)).contains("split brain").contains("safe to retry once resolved");
    });
  }

  @Test
  @Order(1)
  void aNewInstanceDoesNotWriteWhileBothNodesAreWritable() throws Exception {
    try (ShardDataSources nodes = nodes(ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD).build()) {
      Recorder recorder = new Recorder();
      nodes.addTopologyListener(recorder);
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));
      assertThat(write(orders, SHARD0_UID)).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> count(1) == 1);

      pair.readOnly(1, false); // the replica is writable too: two writable servers for shard 0
      try (ShardDataSources fresh = nodes(ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD).build()) {
        Recorder freshRecorder = new Recorder();
        fresh.addTopologyListener(freshRecorder);
        ShardedJdbc freshOrders = new ShardedJdbc(router, fresh);
        assertSplitBrainError(freshOrders);
        assertThat(fresh.splitBrain(0)).isTrue();
        assertThat(fresh.splitBrain(1)).isFalse();
        assertThat(fresh.splitBrains()).isEqualTo(1);
        assertThat(freshRecorder.events).containsExactly("split 0 " + List.of(pair.jdbcUrl(0), pair.jdbcUrl(1)));
        assertThat(write(freshOrders, SHARD1_UID)).as("the other shard is not affected").isTrue();
        assertThatThrownBy(() -> fresh.primaryView(0).getConnection()).hasMessageContaining("split brain");
        try (Connection weak = fresh.connection(0, Consistency.WEAK)) {
          assertThat(weak.isValid(1)).as("WEAK reads are not fenced").isTrue();
        }

        pair.readOnly(1, true);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(ShardUnavailableException.class)
            .until(() -> write(freshOrders, SHARD0_UID));
        assertThat(fresh.splitBrain(0)).isFalse();
        assertThat(freshRecorder.events).containsExactly("split 0 " + List.of(pair.jdbcUrl(0), pair.jdbcUrl(1)),
            "resolved 0 " + pair.jdbcUrl(0));
      }
      assertThat(count(0)).as("only the writes before and after the split brain").isEqualTo(2);
      await().atMost(Duration.ofSeconds(30)).until(() -> count(1) == 2);
      assertThat(recorder.events).as("the first instance never looked: no topology check").isEmpty();
    }
  }

  @Test
  @Order(2)
  void aRunningInstanceStopsWritingWhenTheOldPrimaryComesBackWritable() throws Exception {
    try (ShardDataSources nodes = nodes(ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD)
        .topologyCheck(Duration.ofMillis(100)).build()) {
      Recorder recorder = new Recorder();
      nodes.addTopologyListener(recorder);
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      assertThat(write(orders, SHARD0_UID)).isTrue();
      long before = count(0);

      pair.readOnly(1, false);
      await().atMost(Duration.ofSeconds(10)).until(() -> nodes.splitBrain(0));
      assertSplitBrainError(orders);
      assertThat(write(orders, SHARD1_UID)).isTrue();
      assertThat(recorder.events).containsExactly("split 0 " + List.of(pair.jdbcUrl(0), pair.jdbcUrl(1)));
      assertThat(count(0)).as("nothing written to shard 0 while split").isEqualTo(before);

      pair.readOnly(1, true);
      await().atMost(Duration.ofSeconds(10)).until(() -> !nodes.splitBrain(0));
      assertThat(write(orders, SHARD0_UID)).isTrue();
      assertThat(count(0)).isEqualTo(before + 1);
      assertThat(recorder.events).endsWith("resolved 0 " + pair.jdbcUrl(0));
    }
  }

  @Test
  @Order(3)
  void warnsAtStartUpWhenTheUserCanBypassReadOnly() throws Exception {
    for (int n = 0; n < 2; n++) {
      pair.sql(n, "SET sql_log_bin=0; CREATE USER IF NOT EXISTS 'ops'@'127.0.0.1' IDENTIFIED BY 'ops-secret';"
          + " GRANT ALL PRIVILEGES ON *.* TO 'ops'@'127.0.0.1';");
    }
    try (ShardDataSources nodes = nodes("ops", "ops-secret").eager(true).build()) {
      assertThat(nodes.warnings()).hasSize(2);
      assertThat(nodes.warnings().get(0)).contains("shard 0 node 0 (" + pair.jdbcUrl(0) + ")").contains("'ops'")
          .contains("ALL PRIVILEGES").contains("read_only does not stop its writes").doesNotContain("ops-secret");
      assertThat(nodes.warnings().get(1)).contains("shard 0 node 1 (" + pair.jdbcUrl(1) + ")");
    }
    try (ShardDataSources nodes = nodes(ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD).eager(true).build()) {
      assertThat(nodes.warnings()).as("the app user cannot bypass read_only; shard 1 (root) has no node to move to")
          .isEmpty();
    }
  }

  @Test
  @Order(4)
  void recognisesTheGrantsThatBypassReadOnly() {
    assertThat(Topology.readOnlyBypass("GRANT SUPER, REPLICATION CLIENT ON *.* TO `x`@`%`")).isEqualTo("SUPER");
    assertThat(Topology.readOnlyBypass("GRANT READ_ONLY ADMIN ON *.* TO `x`@`%`")).isEqualTo("READ_ONLY ADMIN");
    assertThat(Topology.readOnlyBypass("GRANT APPLICATION_PASSWORD_ADMIN,CONNECTION_ADMIN ON *.* TO `x`@`%`"))
        .isEqualTo("CONNECTION_ADMIN");
    assertThat(Topology.readOnlyBypass("GRANT USAGE ON *.* TO `app`@`127.0.0.1` IDENTIFIED BY PASSWORD '*AB'")).isNull();
    assertThat(Topology.readOnlyBypass("GRANT ALL PRIVILEGES ON `gifts`.* TO `app`@`127.0.0.1`")).isNull();
  }
}
