package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.shard.ShardedJdbc.ShardWriteException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A switchover in the middle of a stream of transactional writes and batch inserts, on two real
 * MariaDB servers (the second replicating from the first): every acknowledged write is on the new
 * primary, none is lost, none lands on the old node after it became read-only, and no error reaches
 * the writers unless it says it is safe to retry. Then a new instance finds the new primary at
 * start-up instead of writing to the configured node 0.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwitchoverTest {

  static final String INSERT = "INSERT INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, ?, ?)";
  static final Instant NOW = Instant.parse("2026-11-24T08:00:00Z");

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

  static ShardDataSources.Builder pairNodes() {
    return ShardDataSources.builder()
        .primary(0, pair.jdbcUrl(0), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD)
        .replica(0, pair.jdbcUrl(1), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD, null)
        .connectionTimeout(Duration.ofSeconds(2));
  }

  static Set<Long> ids(int node) throws SQLException {
    return ids(pair, node);
  }

  /** The order ids in this month's table on one node of {@code pair}. */
  static Set<Long> ids(ReplicatedPair pair, int node) throws SQLException {
    Set<Long> ids = new HashSet<>();
    try (Connection c = DriverManager.getConnection(pair.jdbcUrl(node), ReplicatedPair.APP_USER, ReplicatedPair.APP_PASSWORD);
        Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT order_id FROM " + table)) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids;
  }

  /** Writes one order in a transaction that reads before it writes; retries only errors flagged safe. */
  static void writeOrder(ShardedJdbc orders, long id, AtomicInteger safeRetries) {
    while (true) {
      try {
        orders.inTransaction(id, NOW, (c, route) -> {
          try (PreparedStatement q = c.prepareStatement("SELECT COUNT(*) FROM " + route.table() + " WHERE uid = ?")) {
            q.setLong(1, id);
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              if (rs.getLong(1) != 0) {
                throw new IllegalStateException("order " + id + " exists already: an attempt was applied twice");
              }
            }
          }
          try (PreparedStatement ps = c.prepareStatement(INSERT.replace("{table}", route.table()))) {
            ps.setLong(1, id);
            ps.setLong(2, id);
            ps.setLong(3, 10);
            ps.setLong(4, NOW.toEpochMilli());
            ps.executeUpdate();
          }
          return null;
        });
        return;
      } catch (ShardWriteException e) {
        if (!e.safeToRetry()) {
          throw e;
        }
        safeRetries.incrementAndGet();
      }
    }
  }

  static void writeBatch(ShardedJdbc orders, List<Long> batch, AtomicInteger safeRetries) {
    while (true) {
      try {
        int inserted = orders.batchInsert(batch, id -> id, id -> NOW, INSERT, id -> new Object[] {id, id, 20L, NOW.toEpochMilli()});
        assertThat(inserted).isEqualTo(batch.size());
        return;
      } catch (ShardWriteException e) {
        if (!e.safeToRetry()) {
          throw e;
        }
        safeRetries.incrementAndGet();
      }
    }
  }

  @Test
  @Order(1)
  void aSwitchoverMidStreamLosesNoAcknowledgedWriteAndWritesNothingToTheOldNode() throws Exception {
    List<String> moves = new CopyOnWriteArrayList<>();
    try (ShardDataSources nodes = pairNodes().build()) {
      nodes.addTopologyListener(new TopologyListener() {
        @Override
        public void onPrimaryChanged(int shard, String fromUrl, String toUrl) {
          moves.add(shard + ": " + fromUrl + " -> " + toUrl);
        }
      });
      ShardedJdbc orders = new ShardedJdbc(router, nodes).switchoverWait(Duration.ofSeconds(10));
      orders.ensureTables(ShardedJdbcTest.DDL, router.monthOf(NOW));

      AtomicLong nextId = new AtomicLong();
      Set<Long> acked = ConcurrentHashMap.newKeySet();
      AtomicInteger safeRetries = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService writers = Executors.newFixedThreadPool(5);
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        running.add(writers.submit(() -> {
          while (!stop.get()) {
            long id = nextId.incrementAndGet();
            writeOrder(orders, id, safeRetries);
            acked.add(id);
          }
          return null;
        }));
      }
      running.add(writers.submit(() -> {
        while (!stop.get()) {
          List<Long> batch = new ArrayList<>();
          for (int i = 0; i < 5; i++) {
            batch.add(nextId.incrementAndGet());
          }
          writeBatch(orders, batch, safeRetries);
          acked.addAll(batch);
        }
        return null;
      }));

      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 200);
        pair.switchToSecond();
        Set<Long> onOldNodeAtSwitch = ids(0);
        int ackedAtSwitch = acked.size();
        await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= ackedAtSwitch + 200);
        stop.set(true);
        for (Future<?> f : running) {
          f.get(60, TimeUnit.SECONDS); // rethrows any error that reached a writer
        }

        Set<Long> onNew = ids(1);
        Set<Long> onOld = ids(0);
        assertThat(onNew).as("every acknowledged write is on the new primary, and nothing else").isEqualTo(acked);
        assertThat(onOld).as("nothing was written to the old node after it became read-only")
            .isEqualTo(onOldNodeAtSwitch);
        assertThat(onNew).as("what the old node committed reached the new one").containsAll(onOld);
        assertThat(onNew.size()).as("writes went on after the switch").isGreaterThan(onOld.size());
        assertThat(orders.switchoverRetries()).as("refused writes were re-run on the new primary").isPositive();
        assertThat(safeRetries.get()).as("no refusal outlasted writeAttempts/switchoverWait").isZero();
        assertThat(nodes.failovers()).isEqualTo(1);
        assertThat(moves).containsExactly("0: " + pair.jdbcUrl(0) + " -> " + pair.jdbcUrl(1));
      } finally {
        stop.set(true);
        writers.shutdownNow();
        assertThat(writers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @Test
  @Order(2)
  void aNewInstanceFindsTheWritableNodeInsteadOfWritingToNodeZero() throws Exception {
    List<String> moves = Collections.synchronizedList(new ArrayList<>());
    try (ShardDataSources nodes = pairNodes().build()) {
      nodes.addTopologyListener(new TopologyListener() {
        @Override
        public void onPrimaryChanged(int shard, String fromUrl, String toUrl) {
          moves.add(fromUrl + " -> " + toUrl);
        }
      });
      ShardedJdbc orders = new ShardedJdbc(router, nodes);
      long id = 1_000_000;
      assertThat(orders.insertIfAbsent(id, NOW, ShardedJdbcTest.INSERT, id, id, 10L, NOW.toEpochMilli())).isTrue();
      assertThat(orders.switchoverRetries()).as("the first write went to the writable node at once").isZero();
      assertThat(moves).containsExactly(pair.jdbcUrl(0) + " -> " + pair.jdbcUrl(1));
      assertThat(ids(1)).contains(id);
      assertThat(ids(0)).doesNotContain(id);
    }
    try (ShardDataSources eager = pairNodes().eager(true).build();
        Connection strong = eager.connection(0, Consistency.STRONG)) {
      assertThat(FailoverTest.port(strong)).as("eager: found at build").isEqualTo(pair.ports[1]);
      assertThat(eager.topology()).containsExactly(
          "shard 0: primary=" + pair.jdbcUrl(1) + ", replicas=[" + pair.jdbcUrl(0) + "]");
      assertThat(eager.warnings()).as("the app user cannot bypass read_only").isEmpty();
    }
  }
}
