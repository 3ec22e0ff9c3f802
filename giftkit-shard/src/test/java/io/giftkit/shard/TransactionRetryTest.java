package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.shard.ShardedJdbc.ShardWriteException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * When exactly a transaction is re-run, on two real MariaDB servers: a statement refused in the
 * middle of a transaction, and a COMMIT refused by a node made read-only while the transaction was
 * open, re-run the whole callback once on the new primary; a COMMIT whose connection dies is
 * reported as outcome unknown and never re-run; with no writable node the write fails after
 * {@code switchoverWait}, flagged safe to retry.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransactionRetryTest {

  static final Instant NOW = SwitchoverTest.NOW;

  static ReplicatedPair pair;
  static ShardRouter router = ShardRouter.builder("gift_order").shards(1).build();
  static String table = router.route(1, NOW).table();
  static ShardDataSources nodes;
  static ShardedJdbc orders;

  @BeforeAll
  static void start() throws Exception {
    pair = new ReplicatedPair();
    nodes = ShardDataSources.builder()
        .primary(0, pair.jdbcUrl(0), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD)
        .replica(0, pair.jdbcUrl(1), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD, null)
        .connectionTimeout(Duration.ofSeconds(2))
        .build();
    orders = new ShardedJdbc(router, nodes);
    orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      nodes.close();
    } finally {
      pair.close();
    }
  }

  static void insert(Connection c, String table, long id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SwitchoverTest.INSERT.replace("{table}", table))) {
      ps.setLong(1, id);
      ps.setLong(2, id);
      ps.setLong(3, 10);
      ps.setLong(4, NOW.toEpochMilli());
      ps.executeUpdate();
    }
  }

  static long connectionId(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  @Order(1)
  void aCommitWhoseConnectionDiesIsReportedOutcomeUnknownAndNotRerun() {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> orders.inTransaction(1, NOW, (c, route) -> {
      runs.incrementAndGet();
      insert(c, route.table(), 1);
      try {
        pair.sql(0, "KILL CONNECTION " + connectionId(c)); // the connection dies between the work and its COMMIT
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return null;
    })).isInstanceOfSatisfying(ShardWriteException.class, e -> {
      assertThat(e.outcomeUnknown()).isTrue();
      assertThat(e.safeToRetry()).isFalse();
      assertThat(e.getMessage()).contains("COMMIT of transaction on shard 0 table " + table)
          .contains("Whether it was applied is unknown");
    });
    assertThat(runs).as("a COMMIT with an unknown outcome is never re-run").hasValue(1);
    assertThat(orders.switchoverRetries()).isZero();
  }

  @Test
  @Order(2)
  void aStatementRefusedMidTransactionRerunsTheWholeCallbackOnTheNewPrimary() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    String result = orders.inTransaction(2, NOW, (c, route) -> {
      int run = runs.incrementAndGet();
      insert(c, route.table(), 2);
      if (run == 1) {
        try {
          pair.switchToSecond(); // the primary turns read-only while this transaction is open
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      insert(c, route.table(), 3); // refused on the first run
      return "port " + FailoverTest.port(c);
    });
    assertThat(runs).as("the callback ran again, whole, after the refusal").hasValue(2);
    assertThat(result).isEqualTo("port " + pair.ports[1]);
    assertThat(SwitchoverTest.ids(pair, 1)).containsExactlyInAnyOrder(2L, 3L);
    assertThat(SwitchoverTest.ids(pair, 0)).as("the refused attempt left nothing on the old node").isEmpty();
    assertThat(orders.switchoverRetries()).isEqualTo(1);
    assertThat(nodes.failovers()).isEqualTo(1);
  }

  @Test
  @Order(3)
  void aCommitRefusedByANodeMadeReadOnlyMeanwhileIsRerunOnTheWritableNode() throws Exception {
    // node 1 is the primary now; node 0 (read-only, no longer replicating) takes over again
    AtomicInteger runs = new AtomicInteger();
    orders.inTransaction(4, NOW, (c, route) -> {
      insert(c, route.table(), 4);
      if (runs.incrementAndGet() == 1) {
        try {
          pair.readOnly(1, true);
          pair.readOnly(0, false);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      return null; // the COMMIT of the first run is refused: the server rolled it back
    });
    assertThat(runs).hasValue(2);
    assertThat(SwitchoverTest.ids(pair, 0)).containsExactly(4L);
    assertThat(SwitchoverTest.ids(pair, 1)).as("the refused COMMIT applied nothing").containsExactlyInAnyOrder(2L, 3L);
    assertThat(orders.switchoverRetries()).isEqualTo(2);
  }

  @Test
  @Order(4)
  void withNoWritableNodeAWriteFailsAfterSwitchoverWaitFlaggedSafeToRetry() throws Exception {
    pair.readOnly(0, true);
    try {
      orders.switchoverWait(Duration.ofMillis(300));
      long retriesBefore = orders.switchoverRetries();
      AtomicInteger runs = new AtomicInteger();
      assertThatThrownBy(() -> orders.inTransaction(5, NOW, (c, route) -> {
        runs.incrementAndGet();
        insert(c, route.table(), 5);
        return null;
      })).isInstanceOfSatisfying(ShardWriteException.class, e -> {
        assertThat(e.safeToRetry()).isTrue();
        assertThat(e.outcomeUnknown()).isFalse();
        assertThat(e.getMessage()).contains("shard 0 table " + table)
            .contains("no node of the shard became writable within 300 ms").contains("safe to retry");
      });
      assertThat(runs).hasValue(1);
      assertThat(orders.switchoverRetries()).isEqualTo(retriesBefore);

      orders.writeAttempts(1);
      assertThatThrownBy(() -> orders.update(6, NOW, SwitchoverTest.INSERT, 6L, 6L, 10L, NOW.toEpochMilli()))
          .isInstanceOfSatisfying(ShardWriteException.class, e -> {
            assertThat(e.safeToRetry()).isTrue();
            assertThat(e.getMessage()).contains("refused by a read-only node 1 time(s) (writeAttempts=1)");
          });
    } finally {
      orders.writeAttempts(ShardedJdbc.DEFAULT_WRITE_ATTEMPTS).switchoverWait(ShardedJdbc.DEFAULT_SWITCHOVER_WAIT);
      pair.readOnly(0, false);
    }
    assertThat(orders.insertIfAbsent(6, NOW, ShardedJdbcTest.INSERT, 6L, 6L, 10L, NOW.toEpochMilli())).isTrue();
    assertThat(SwitchoverTest.ids(pair, 0)).containsExactlyInAnyOrder(4L, 6L);
  }

  @Test
  @Order(5)
  void writeKnobsRejectBadValuesNamingThem() {
    assertThatThrownBy(() -> orders.writeAttempts(0)).hasMessageContaining("writeAttempts").hasMessageContaining("0");
    assertThatThrownBy(() -> orders.switchoverWait(Duration.ofMinutes(2))).hasMessageContaining("switchoverWait")
        .hasMessageContaining("but was 2m");
    assertThatThrownBy(() -> orders.switchoverWait(Duration.ZERO)).hasMessageContaining("switchoverWait");
  }
}
