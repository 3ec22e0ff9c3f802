package io.giftkit.demo.gifts;

import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.cache.ValueCodec;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.JdbcIdempotencyStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Settlement: the {@code settlement} consumer ({@code giftkit.mq.consumers.settlement.*}) applies
 * each gift event exactly once to the ledger, the streamer's income and the room's ranking — the
 * claims of a poll's events and their writes in one transaction of the control database. Events
 * that are not JSON gift events ({@link GiftEventFormat}) go to the dead-letter topic.
 */
@Configuration(proxyBeanMethods = false)
public class Settlement {

  /** The ledger's totals, for reconciliation. */
  public record Totals(long rows, long amount, long income, long ranking) {}

  @Bean
  GiftkitConsumer<String, GiftEvent> settlementConsumer(GiftkitConsumers consumers, DataSource control,
      JdbcIdempotencyStore store, DemoSchema schema, KafkaTopics topics, ValueCodec<GiftEvent> events) {
    Deserializer<GiftEvent> json = (topic, bytes) -> events.decode(bytes);
    return consumers.create("settlement", b -> b.deserializers(new StringDeserializer(), json)
        .transactionalBatchHandler(control, store, r -> Long.toString(r.value().orderId()), Settlement::apply));
  }

  /**
   * The poll's ledger rows in one batch, then its income and ranking totals summed per row and upserted
   * in key order: the two settlement consumers lock the hot streamer's and rooms' rows in the same order,
   * so they may wait for each other but never deadlock, and a streamer with many gifts in a poll costs
   * one upsert.
   */
  static void apply(List<ConsumerRecord<String, GiftEvent>> records, Connection c) throws SQLException {
    long now = System.currentTimeMillis();
    Map<Long, Long> incomes = new TreeMap<>();
    Map<Long, Map<Long, Long>> rankings = new TreeMap<>(); // room, then uid
    try (PreparedStatement ledger = c.prepareStatement("INSERT INTO gift_ledger"
            + " (order_id, uid, room_id, streamer_uid, amount, applied_at) VALUES (?, ?, ?, ?, ?, ?)");
        PreparedStatement income = c.prepareStatement("INSERT INTO streamer_income (streamer_uid, total) VALUES (?, ?)"
            + " ON DUPLICATE KEY UPDATE total = total + VALUES(total)");
        PreparedStatement ranking = c.prepareStatement("INSERT INTO room_ranking (room_id, uid, total) VALUES (?, ?, ?)"
            + " ON DUPLICATE KEY UPDATE total = total + VALUES(total)")) {
      for (ConsumerRecord<String, GiftEvent> r : records) {
        GiftEvent e = r.value();
        ledger.setLong(1, e.orderId());
        ledger.setLong(2, e.uid());
        ledger.setLong(3, e.roomId());
        ledger.setLong(4, e.streamerUid());
        ledger.setLong(5, e.amount());
        ledger.setLong(6, now);
        ledger.addBatch();
        incomes.merge(e.streamerUid(), e.amount(), Long::sum);
        rankings.computeIfAbsent(e.roomId(), k -> new TreeMap<>()).merge(e.uid(), e.amount(), Long::sum);
      }
      ledger.executeBatch();
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

  /**
   * @param control the control database
   * @return the ledger's row count and sums (they must agree: each event once in each)
   */
  public static Totals totals(DataSource control) throws SQLException {
    try (Connection c = control.getConnection(); Statement s = c.createStatement()) {
      long rows;
      long amount;
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM gift_ledger")) {
        rs.next();
        rows = rs.getLong(1);
        amount = rs.getLong(2);
      }
      long income = single(s, "SELECT COALESCE(SUM(total), 0) FROM streamer_income");
      long ranking = single(s, "SELECT COALESCE(SUM(total), 0) FROM room_ranking");
      return new Totals(rows, amount, income, ranking);
    }
  }

  private static long single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
