package io.giftkit.e2e.baseline;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The outboxes' relay, written directly: one thread looks at a shard's outbox when a send committed
 * a row there (and at every shard every 100 ms), sends up to 200 rows with a plain idempotent {@code
 * KafkaProducer} (acks=all, linger 2 ms like the demo's relay), waits for the acknowledgements and
 * deletes the sent rows in one statement. Every 500 ms it also runs the shards' due re-checks (asks the
 * provider, then PAID with the outbox row, or FAILED). Single instance: no claims.
 */
@Component
public class BaselineRelay implements DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(BaselineRelay.class);
  private static final int BATCH = 200;

  private final BaselineApplication.Shards shards;
  private final BaselineApplication.Payments payments;
  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final Thread thread;
  private final AtomicInteger dirty = new AtomicInteger(); // a bit per shard with a row to send
  private volatile boolean running = true;

  public BaselineRelay(BaselineApplication.Shards shards, BaselineApplication.Payments payments, Environment env) {
    this.topic = BaselineApplication.env(env, "BASELINE_TOPIC", "baseline-gift-events");
    this.shards = shards;
    this.payments = payments;
    this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        BaselineApplication.env(env, "KAFKA_BOOTSTRAP", "127.0.0.1:9092"), ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 2),
        new StringSerializer(), new ByteArraySerializer());
    this.thread = new Thread(this::loop, "baseline-relay");
    thread.setDaemon(true);
    thread.start();
  }

  String topic() {
    return topic;
  }

  /** A send committed a row in this shard's outbox: look at that shard now (the others wait). */
  void wakeUp(int shard) {
    dirty.getAndAccumulate(1 << shard, (a, b) -> a | b);
    LockSupport.unpark(thread);
  }

  private void loop() {
    List<? extends DataSource> pools = shards.pools();
    int all = (1 << pools.size()) - 1;
    long nextFull = 0;
    long nextRecheck = System.currentTimeMillis() + 500;
    while (running) {
      long now = System.currentTimeMillis();
      int look = dirty.getAndSet(0);
      if (now >= nextFull) { // every 100 ms every shard (the re-checks' rows, anything a wake-up missed)
        look = all;
        nextFull = now + 100;
      }
      for (int s = 0; s < pools.size(); s++) {
        if ((look & (1 << s)) == 0) {
          continue;
        }
        try {
          if (relay(pools.get(s)) == BATCH) {
            dirty.getAndAccumulate(1 << s, (a, b) -> a | b); // more waiting: again at once
          }
        } catch (Exception e) {
          LOG.warn("relaying an outbox failed: {}", e.toString());
        }
      }
      if (System.currentTimeMillis() >= nextRecheck) {
        for (DataSource shard : pools) {
          try {
            recheck(shard);
          } catch (Exception e) {
            LOG.warn("re-checks failed: {}", e.toString());
          }
        }
        nextRecheck = System.currentTimeMillis() + 500;
      }
      if (dirty.get() == 0) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.max(1, nextFull - System.currentTimeMillis())));
      }
    }
  }

  private int relay(DataSource shard) throws Exception {
    List<Long> ids = new ArrayList<>();
    List<Future<?>> acks = new ArrayList<>();
    try (Connection c = shard.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement("SELECT id, msg_key, payload FROM gift_outbox ORDER BY id LIMIT " + BATCH);
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
          acks.add(producer.send(new ProducerRecord<>(topic, rs.getString(2), rs.getBytes(3))));
        }
      }
      if (ids.isEmpty()) {
        return 0;
      }
      for (Future<?> ack : acks) {
        ack.get(10, TimeUnit.SECONDS);
      }
      StringBuilder sql = new StringBuilder("DELETE FROM gift_outbox WHERE id IN (");
      for (int i = 0; i < ids.size(); i++) {
        sql.append(i == 0 ? "?" : ",?");
      }
      try (PreparedStatement del = c.prepareStatement(sql.append(')').toString())) {
        for (int i = 0; i < ids.size(); i++) {
          del.setLong(i + 1, ids.get(i));
        }
        del.executeUpdate();
      }
    }
    return ids.size();
  }

  private void recheck(DataSource shard) throws SQLException {
    List<String> due = new ArrayList<>();
    try (Connection c = shard.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT order_key FROM order_recheck WHERE due_at <= ? LIMIT 100")) {
      ps.setLong(1, System.currentTimeMillis());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          due.add(rs.getString(1));
        }
      }
    }
    for (String key : due) {
      String[] p = key.split(":");
      long uid = Long.parseLong(p[0]);
      long orderId = Long.parseLong(p[1]);
      boolean charged;
      try (Connection c = payments.ds().getConnection();
          PreparedStatement q = c.prepareStatement("SELECT state FROM payment_charge WHERE order_id = ?")) {
        q.setLong(1, orderId);
        try (ResultSet rs = q.executeQuery()) {
          charged = rs.next() && rs.getString(1).equals("CHARGED");
        }
      }
      settle(shard, key, uid, orderId, Long.parseLong(p[2]), charged);
    }
  }

  private void settle(DataSource shard, String key, long uid, long orderId, long createdAt, boolean charged)
      throws SQLException {
    String table = "gift_order_" + java.time.YearMonth.from(java.time.Instant.ofEpochMilli(createdAt)
        .atZone(java.time.ZoneId.of("Asia/Shanghai"))).format(java.time.format.DateTimeFormatter.ofPattern("yyyyMM"));
    try (Connection c = shard.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET status = ? WHERE order_id = ?"
          + " AND status = 'PAYMENT_UNKNOWN'")) {
        ps.setString(1, charged ? "PAID" : "FAILED");
        ps.setLong(2, orderId);
        if (ps.executeUpdate() == 1 && charged) {
          try (PreparedStatement o = c.prepareStatement("INSERT INTO gift_outbox (msg_key, payload) SELECT order_id,"
              + " CONCAT('{\"orderId\":', order_id, ',\"uid\":', uid, ',\"roomId\":', room_id, ',\"streamerUid\":',"
              + " streamer_uid, ',\"giftId\":', gift_id, ',\"count\":', gift_count, ',\"amount\":', amount,"
              + " ',\"createdAt\":', created_at, '}') FROM " + table + " WHERE order_id = ?")) {
            o.setLong(1, orderId);
            o.executeUpdate();
          }
        }
      }
      try (PreparedStatement d = c.prepareStatement("DELETE FROM order_recheck WHERE order_key = ?")) {
        d.setString(1, key);
        d.executeUpdate();
      }
      c.commit();
    }
  }

  @Override
  public void destroy() throws InterruptedException {
    running = false;
    LockSupport.unpark(thread);
    thread.join(5_000);
    producer.close(java.time.Duration.ofSeconds(5));
  }
}
