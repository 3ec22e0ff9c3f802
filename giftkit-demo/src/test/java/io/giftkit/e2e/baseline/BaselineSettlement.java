package io.giftkit.e2e.baseline;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Settlement, written directly: two plain consumer loops (the demo's settlement runs two), each
 * applying a poll's events in one transaction of the control database: one multi-row
 * {@code INSERT IGNORE … RETURNING order_id} into the ledger (the order id is its key: a redelivered
 * event inserts nothing), the income and ranking upserts for the events that were new, a commit,
 * then a synchronous offset commit.
 */
@Component
public class BaselineSettlement implements DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(BaselineSettlement.class);

  private record Event(long orderId, long uid, long roomId, long streamerUid, long amount) {}

  private final BaselineApplication.Control control;
  private final JsonMapper json = JsonMapper.builder().build();
  private final List<KafkaConsumer<String, byte[]>> consumers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  public BaselineSettlement(BaselineApplication.Control control, BaselineRelay relay, Environment env)
      throws SQLException {
    this.control = control;
    try (Connection c = control.ds().getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS gift_ledger (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
          + " room_id BIGINT NOT NULL, streamer_uid BIGINT NOT NULL, amount BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS streamer_income (streamer_uid BIGINT PRIMARY KEY, total BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS room_ranking (room_id BIGINT NOT NULL, uid BIGINT NOT NULL,"
          + " total BIGINT NOT NULL, PRIMARY KEY (room_id, uid))");
    }
    for (int i = 0; i < 2; i++) {
      Map<String, Object> config = new HashMap<>();
      config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BaselineApplication.env(env, "KAFKA_BOOTSTRAP", "127.0.0.1:9092"));
      config.put(ConsumerConfig.GROUP_ID_CONFIG, "baseline-settlement-" + relay.topic());
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
          new ByteArrayDeserializer());
      consumer.subscribe(List.of(relay.topic()));
      consumers.add(consumer);
      Thread t = new Thread(() -> loop(consumer), "baseline-settlement-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void loop(KafkaConsumer<String, byte[]> consumer) {
    try {
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        if (records.isEmpty()) {
          continue;
        }
        List<Event> events = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
          JsonNode n = json.readTree(new String(r.value(), StandardCharsets.UTF_8));
          events.add(new Event(n.get("orderId").asLong(), n.get("uid").asLong(), n.get("roomId").asLong(),
              n.get("streamerUid").asLong(), n.get("amount").asLong()));
        }
        while (running) {
          try {
            apply(events);
            break;
          } catch (SQLException e) {
            LOG.warn("applying {} events failed, retrying: {}", events.size(), e.toString());
          }
        }
        consumer.commitSync();
      }
    } catch (WakeupException stopping) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void apply(List<Event> events) throws SQLException {
    try (Connection c = control.ds().getConnection()) {
      c.setAutoCommit(false);
      try {
        StringBuilder sql = new StringBuilder("INSERT IGNORE INTO gift_ledger (order_id, uid, room_id, streamer_uid,"
            + " amount, applied_at) VALUES ");
        for (int i = 0; i < events.size(); i++) {
          sql.append(i == 0 ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)");
        }
        Map<Long, Event> byId = new HashMap<>();
        List<Event> fresh = new ArrayList<>();
        long now = System.currentTimeMillis();
        try (PreparedStatement ps = c.prepareStatement(sql.append(" RETURNING order_id").toString())) {
          int p = 1;
          for (Event e : events) {
            byId.put(e.orderId(), e);
            ps.setLong(p++, e.orderId());
            ps.setLong(p++, e.uid());
            ps.setLong(p++, e.roomId());
            ps.setLong(p++, e.streamerUid());
            ps.setLong(p++, e.amount());
            ps.setLong(p++, now);
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              fresh.add(byId.get(rs.getLong(1)));
            }
          }
        }
        if (!fresh.isEmpty()) {
          try (PreparedStatement income = c.prepareStatement("INSERT INTO streamer_income (streamer_uid, total)"
                  + " VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)");
              PreparedStatement ranking = c.prepareStatement("INSERT INTO room_ranking (room_id, uid, total)"
                  + " VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)")) {
            // Summed per row and in key order, as the demo does: no deadlock between the two loops.
            Map<Long, Long> incomes = new TreeMap<>();
            Map<Long, Map<Long, Long>> rankings = new TreeMap<>();
            for (Event e : fresh) {
              incomes.merge(e.streamerUid(), e.amount(), Long::sum);
              rankings.computeIfAbsent(e.roomId(), k -> new TreeMap<>()).merge(e.uid(), e.amount(), Long::sum);
            }
            for (Map.Entry<Long, Long> e : incomes.entrySet()) {
              income.setLong(1, e.getKey());
              income.setLong(2, e.getValue());
              income.addBatch();
            }
            income.executeBatch();
            for (Map.Entry<Long, Map<Long, Long>> room : rankings.entrySet()) {
              for (Map.Entry<Long, Long> e : room.getValue().entrySet()) {
                ranking.setLong(1, room.getKey());
                ranking.setLong(2, e.getKey());
                ranking.setLong(3, e.getValue());
                ranking.addBatch();
              }
            }
            ranking.executeBatch();
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  @Override
  public void destroy() throws InterruptedException {
    running = false;
    consumers.forEach(KafkaConsumer::wakeup);
    for (Thread t : threads) {
      t.join(10_000);
    }
  }
}
