package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Lag-aware WEAK reads and read-your-writes on real replication: two MariaDB servers started by the
 * test, the second replicating from the first, whose SQL thread the tests stop and start. Stopped,
 * the replica keeps answering with old rows; WEAK reads must stop going to it once its lag is over
 * the bound, and come back once it caught up.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicaLagTest {

  static final Instant NOW = SwitchoverTest.NOW;
  static final String BY_UID = "SELECT order_id FROM {table} WHERE uid = ? ORDER BY order_id";
  static final Duration MAX_LAG = Duration.ofSeconds(1);

  static ReplicatedPair pair;
  static ShardRouter router = ShardRouter.builder("gift_order").shards(1).build();
  static String table = router.route(1, NOW).table();

  @BeforeAll
  static void start() throws Exception {
    pair = new ReplicatedPair();
  }

  @AfterAll
  static void stop() throws Exception {
    pair.close();
  }

  static ShardDataSources.Builder nodes() {
    return ShardDataSources.builder()
        .primary(0, pair.jdbcUrl(0), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD)
        .replica(0, pair.jdbcUrl(1), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD, null)
        .connectionTimeout(Duration.ofMillis(500))
        .primaryRetryAfter(Duration.ofMillis(200));
  }

  /** Order ids on a node, read directly (not through GiftKit). */
  static List<Long> ordersOn(int node, long uid) throws SQLException {
    try (Connection c = DriverManager.getConnection(pair.jdbcUrl(node), ReplicatedPair.APP_USER,
        ReplicatedPair.APP_PASSWORD); PreparedStatement ps = c.prepareStatement(BY_UID.replace("{table}", table))) {
      ps.setLong(1, uid);
      List<Long> ids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
      return ids;
    }
  }

  static void insertDirectly(int node, long orderId, long uid) throws SQLException {
    try (Connection c = DriverManager.getConnection(pair.jdbcUrl(node), ReplicatedPair.APP_USER,
        ReplicatedPair.APP_PASSWORD); Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO " + table + " (order_id, uid, amount, created_at) VALUES (" + orderId + ", " + uid
          + ", 1, 1)");
    }
  }

  static boolean insert(ShardedJdbc orders, long orderId, long uid) {
    return orders.insertIfAbsent(uid, NOW, ShardedJdbcTest.INSERT, orderId, uid, 10L, NOW.toEpochMilli());
  }

  static List<Long> weak(ShardedJdbc orders, long uid) {
    return orders.query(uid, NOW, Consistency.WEAK, BY_UID, rs -> rs.getLong(1), uid);
  }

  static int weakPort(ShardDataSources nodes) throws SQLException {
    try (Connection c = nodes.connection(0, Consistency.WEAK)) {
      return FailoverTest.port(c);
    }
  }

  /**
   * Waits until the replica applied everything the primary has now. Heartbeats keep moving the
   * primary's position, so the replica is waited for to reach it or pass it ({@code MASTER_GTID_WAIT}),
   * not to equal it.
   */
  static void caughtUp() throws Exception {
    String position = pair.query(0, "SELECT @@gtid_binlog_pos");
    assertThat(pair.query(1, "SELECT MASTER_GTID_WAIT('" + position + "', 30)"))
        .as("the replica reached the primary's position " + position + " within 30 s").isEqualTo("0");
  }

  static final class LagEvents implements TopologyListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void onReplicaLagging(int shard, String url, Duration lag) {
      events.add("lagging " + shard + " " + url + " " + (lag == null ? "unknown" : "known"));
    }

    @Override
    public void onReplicaCaughtUp(int shard, String url, Duration lag) {
      events.add("caught up " + shard + " " + url);
    }
  }

  @Test
  @Order(1)
  void weakReadsSkipAReplicaWhoseSqlThreadStoppedAndComeBackWhenItCatchesUp() throws Exception {
    LagEvents events = new LagEvents();
    try (ShardDataSources nodes = nodes().maxReplicaLag(MAX_LAG).build()) {
      nodes.addTopologyListener(events);
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));
      assertThat(insert(orders, 1, 7)).isTrue();
      caughtUp();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        assertThat(nodes.replicaLag(0, 1)).as("the replica's lag is measured").hasValueSatisfying(
            lag -> assertThat(lag).isLessThanOrEqualTo(MAX_LAG));
        assertThat(weakPort(nodes)).as("a caught-up replica serves WEAK reads").isEqualTo(pair.ports[1]);
      });
      assertThat(nodes.replicaLag(0, 0)).as("the primary has no lag to report").isEmpty();
      assertThat(nodes.maxReplicaLag()).hasValue(MAX_LAG);
      // at start-up the replica may be heard lagging (heartbeat table not replicated yet) and then
      // caught up; the events of this test start from the caught-up state
      await().atMost(Duration.ofSeconds(10)).until(() -> events.events.isEmpty()
          || events.events.get(events.events.size() - 1).startsWith("caught up"));
      events.events.clear();

      pair.sql(1, "STOP SLAVE SQL_THREAD");
      try {
        stoppedAndStarted(nodes, orders, events);
      } finally {
        pair.sql(1, "START SLAVE SQL_THREAD"); // a no-op when the test got that far; a failure must not leave it stopped
      }
    }
  }

  private static void stoppedAndStarted(ShardDataSources nodes, ShardedJdbc orders, LagEvents events) throws Exception {
    long fallbacksBefore = nodes.replicaLagFallbacks();
    assertThat(insert(orders, 2, 7)).isTrue();

    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(weak(orders, 7)).as("a WEAK read sees the new order").containsExactly(1L, 2L));
    assertThat(ordersOn(1, 7)).as("the replica still lacks it: the read was not served there").containsExactly(1L);
    assertThat(weakPort(nodes)).as("WEAK reads go to the primary").isEqualTo(pair.ports[0]);
    assertThat(nodes.replicaLagFallbacks()).as("counted").isGreaterThan(fallbacksBefore);
    // routing ages the last sample, so it may skip the replica a moment before a sample says it is over
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(nodes.replicaLag(0, 1)).hasValueSatisfying(lag -> assertThat(lag).isGreaterThan(MAX_LAG));
      assertThat(events.events).containsExactly("lagging 0 " + pair.jdbcUrl(1) + " known");
    });
    assertThat(nodes.staleReplicaReads()).as("the primary served every read").isZero();

    pair.sql(1, "START SLAVE SQL_THREAD");
    caughtUp();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(weakPort(nodes)).as("WEAK reads return to the replica").isEqualTo(pair.ports[1]));
    assertThat(weak(orders, 7)).containsExactly(1L, 2L);
    assertThat(nodes.replicaLag(0, 1)).hasValueSatisfying(lag -> assertThat(lag).isLessThanOrEqualTo(MAX_LAG));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events.events)
        .containsExactly("lagging 0 " + pair.jdbcUrl(1) + " known", "caught up 0 " + pair.jdbcUrl(1)));
  }

  @Test
  @Order(2)
  void aWriterReadsItsWriteWhileTheReplicaLagsAndOtherUsersStillReadTheReplica() throws Exception {
    AtomicLong time = new AtomicLong();
    Duration window = Duration.ofSeconds(5);
    try (ShardDataSources nodes = nodes().build()) { // no lag checks: the lagging replica keeps serving WEAK reads
      ShardedJdbc orders = new ShardedJdbc(router, nodes, time::get).readYourWrites(window);
      assertThat(orders.readYourWritesWindow()).isEqualTo(window);
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));
      caughtUp();
      long writer = 101;
      long other = 102;
      pair.sql(1, "STOP SLAVE SQL_THREAD");
      try {
        assertThat(insert(orders, 1001, writer)).isTrue();
        insertDirectly(0, 1002, other); // written by someone else, not through this instance

        assertThat(weak(orders, writer)).as("the writer's WEAK read, at once, sees its write").containsExactly(1001L);
        assertThat(orders.queryMonths(writer, router.monthOf(NOW), router.monthOf(NOW), Consistency.WEAK,
            "SELECT order_id FROM {table} WHERE uid = ? ORDER BY order_id DESC LIMIT ?", rs -> rs.getLong(1), 10, writer))
            .containsExactly(1001L);
        assertThat(orders.readYourWritesReads()).isEqualTo(2);
        assertThat(ordersOn(1, writer)).as("the replica lags: it does not have the write").isEmpty();
        assertThat(weak(orders, other)).as("another user's WEAK read still goes to the (lagging) replica").isEmpty();
        assertThat(ordersOn(0, other)).containsExactly(1002L);
        assertThat(orders.readYourWritesReads()).isEqualTo(2);

        long txUser = 103;
        orders.inTransaction(txUser, NOW, (c, route) -> {
          try (Statement s = c.createStatement()) {
            return s.executeUpdate("INSERT INTO " + route.table() + " (order_id, uid, amount, created_at) VALUES (1003, "
                + txUser + ", 1, 1)");
          }
        });
        assertThat(weak(orders, txUser)).as("a transaction's writer reads its write").containsExactly(1003L);
        long batchUser = 104;
        orders.batchInsert(List.of(1004L, 1005L), id -> batchUser, id -> NOW, ShardedJdbcTest.INSERT,
            id -> new Object[] {id, batchUser, 1L, 1L});
        assertThat(weak(orders, batchUser)).as("a batch's writer reads its rows").containsExactly(1004L, 1005L);

        time.addAndGet(window.toNanos());
        assertThat(weak(orders, writer)).as("after the window, the writer reads the replica again").isEmpty();
      } finally {
        pair.sql(1, "START SLAVE SQL_THREAD");
      }
      caughtUp();
      assertThat(weak(orders, writer)).as("caught up, the replica has it").containsExactly(1001L);
    }
  }

  @Test
  @Order(3)
  void withThePrimaryDownALaggingReplicaStillServesWeakReadsCounted() throws Exception {
    try (ShardDataSources nodes = nodes().maxReplicaLag(Duration.ofMillis(200)).build()) {
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));
      assertThat(insert(orders, 3001, 300)).isTrue();
      caughtUp();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(weakPort(nodes)).isEqualTo(pair.ports[1]));

      pair.stop(0);

      // A read that took a pooled connection to the primary just before it died fails with a socket
      // error (nothing retries a query on another node); the ones after it go to the replica.
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
          .ignoreExceptionsInstanceOf(ShardedJdbc.ShardWriteException.class)
          .untilAsserted(() -> {
            assertThat(weak(orders, 300)).as("WEAK reads keep being served").containsExactly(3001L);
            assertThat(nodes.staleReplicaReads()).as("once the last sample is too old, counted as stale").isPositive();
          });
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(nodes.replicaLag(0, 1)).as("no primary to compare with: unknown").isEmpty());
      long stale = nodes.staleReplicaReads();
      assertThat(weak(orders, 300)).as("WEAK reads are still served, by the replica").containsExactly(3001L);
      assertThat(nodes.staleReplicaReads()).isGreaterThan(stale);
      assertThatThrownBy(() -> orders.query(300, NOW, Consistency.STRONG, BY_UID, rs -> rs.getLong(1), 7L))
          .isInstanceOf(ShardUnavailableException.class);
    }
  }
}
