package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real replication: two MariaDB servers started by the test, the second replicating from the
 * first. After a promotion, writes move to the new primary with no manual step; none is lost and
 * none lands on the read-only node.
 */
class FailoverTest {

  static ReplicatedPair pair;

  @BeforeAll
  static void start() throws Exception {
    pair = new ReplicatedPair();
  }

  @AfterAll
  static void stop() throws Exception {
    pair.close();
  }

  static long count(int node, String table) throws SQLException {
    try (Connection c = DriverManager.getConnection(pair.jdbcUrl(node), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD);
        Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static int port(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@port")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void writesMoveToThePromotedNodeWithNoneLostAndNoneOnTheReadOnlyOne() throws Exception {
    ShardRouter router = ShardRouter.builder("gift_order").shards(1).build();
    try (ShardDataSources nodes = ShardDataSources.builder()
        .primary(0, pair.jdbcUrl(0), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD)
        .replica(0, pair.jdbcUrl(1), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD, null)
        .connectionTimeout(Duration.ofSeconds(2))
        .build()) {
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      Instant now = Instant.parse("2026-11-24T08:00:00Z");
      String table = router.route(1, now).table();
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(now));
      for (long id = 1; id <= 100; id++) {
        assertThat(orders.insertIfAbsent(id, now, ShardedJdbcTest.INSERT, id, id, 10L, now.toEpochMilli())).isTrue();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> count(1, table) == 100);
      try (Connection weak = nodes.connection(0, Consistency.WEAK);
          Connection strong = nodes.connection(0, Consistency.STRONG)) {
        assertThat(port(weak)).as("WEAK reads go to the replica").isEqualTo(pair.ports[1]);
        assertThat(port(strong)).isEqualTo(pair.ports[0]);
      }

      javax.sql.DataSource view = nodes.primaryView(0);
      try (Connection c = view.getConnection()) {
        assertThat(port(c)).as("the primary view connects to the primary").isEqualTo(pair.ports[0]);
      }

      pair.promoteSecond();

      for (long id = 101; id <= 200; id++) {
        assertThat(orders.insertIfAbsent(id, now, ShardedJdbcTest.INSERT, id, id, 10L, now.toEpochMilli())).isTrue();
      }
      assertThat(count(1, table)).as("every write since the promotion reached the new primary").isEqualTo(200);
      assertThat(count(0, table)).as("nothing was written on the read-only node").isEqualTo(100);
      assertThat(nodes.topology()).containsExactly(
          "shard 0: primary=" + pair.jdbcUrl(1) + ", replicas=[" + pair.jdbcUrl(0) + "]");
      assertThat(nodes.failovers()).isEqualTo(1);
      assertThat(nodes.nodes()).extracting(ShardDataSources.NodeStatus::node, ShardDataSources.NodeStatus::primary)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(0, false), org.assertj.core.groups.Tuple.tuple(1, true));
      try (Connection strong = nodes.connection(0, Consistency.STRONG)) {
        assertThat(port(strong)).isEqualTo(pair.ports[1]);
      }
      try (Connection c = view.getConnection()) {
        assertThat(port(c)).as("the same view follows the failover").isEqualTo(pair.ports[1]);
      }
    }
  }
}
