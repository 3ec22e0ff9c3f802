package io.giftkit.e2e.baseline;

import io.giftkit.demo.panel.Gift;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.stereotype.Service;

/**
 * The send path, written directly: hand-made ids, routing ({@code uid % 10}, month tables in the
 * demo's zone) and SQL. The same transactions as the demo's {@code GiftOrderService}: request-id row,
 * order and re-check row in one; the charge; PAID, outbox row and re-check deleted in another.
 */
@Service
public class BaselineGifts {

  /** What a send returned (the demo's JSON shape). */
  public record Result(long orderId, String status, boolean duplicate, long createdAt) {}

  static final List<Gift> CATALOG = List.of(new Gift(1, "rose", 1), new Gift(2, "heart", 10),
      new Gift(3, "rocket", 500), new Gift(4, "blind box", 99), new Gift(5, "treasure chest", 1_000));
  private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
  private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyyMM");
  private static final long FIRST_RECHECK_MS = 3_000;

  private final BaselineApplication.Shards shards;
  private final BaselineApplication.Payments payments;
  private final BaselineRelay relay;
  private final String topic;
  private final AtomicLong lastId = new AtomicLong();
  private final Map<String, Boolean> tables = new ConcurrentHashMap<>();
  /** The charge's 200 ms budget (the demo's payment breaker timeout), by hand. */
  private final BaselineBudget paymentBudget = new BaselineBudget("payment");

  public BaselineGifts(BaselineApplication.Shards shards, BaselineApplication.Payments payments, BaselineRelay relay)
      throws SQLException {
    this.shards = shards;
    this.payments = payments;
    this.relay = relay;
    this.topic = relay.topic();
    for (int s = 0; s < BaselineApplication.SHARDS; s++) {
      try (Connection c = shards.pools().get(s).getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS gift_request (uid BIGINT NOT NULL, client_request_id VARCHAR(64) NOT NULL,"
            + " order_id BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (uid, client_request_id))");
        st.execute("CREATE TABLE IF NOT EXISTS order_recheck (order_key VARCHAR(64) PRIMARY KEY, due_at BIGINT NOT NULL,"
            + " KEY (due_at))");
        st.execute("CREATE TABLE IF NOT EXISTS gift_outbox (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
            + " msg_key VARCHAR(64) NOT NULL, payload VARBINARY(1024) NOT NULL)");
      }
    }
    try (Connection c = payments.ds().getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS payment_charge (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
          + " amount BIGINT NOT NULL, state VARCHAR(8) NOT NULL, updated_at BIGINT NOT NULL)");
    }
  }

  /** Milliseconds since the epoch in the high bits, a sequence in the low 12: unique and time-ordered. */
  long nextId() {
    while (true) {
      long last = lastId.get();
      long candidate = Math.max(last + 1, System.currentTimeMillis() << 12);
      if (lastId.compareAndSet(last, candidate)) {
        return candidate;
      }
    }
  }

  private String table(long uid, long createdAt) throws SQLException {
    int shard = (int) (uid % BaselineApplication.SHARDS);
    String table = "gift_order_" + YearMonth.from(Instant.ofEpochMilli(createdAt).atZone(ZONE)).format(MONTH);
    if (tables.putIfAbsent(shard + "/" + table, Boolean.TRUE) == null) {
      try (Connection c = shards.of(uid).getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS " + table + " (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
            + " room_id BIGINT NOT NULL, streamer_uid BIGINT NOT NULL, gift_id BIGINT NOT NULL,"
            + " gift_count INT NOT NULL, amount BIGINT NOT NULL, status VARCHAR(16) NOT NULL, site VARCHAR(32) NOT NULL,"
            + " created_at BIGINT NOT NULL)");
      }
    }
    return table;
  }

  static Optional<Gift> gift(long id) {
    return CATALOG.stream().filter(g -> g.id() == id).findFirst();
  }

  /**
   * Sends a gift.
   *
   * @param uid the sender
   * @param roomId the room
   * @param giftId the gift
   * @param count how many
   * @param requestId the client's request id
   * @return the order
   */
  public Result send(long uid, long roomId, long giftId, int count, String requestId) throws SQLException {
    Gift gift = gift(giftId).orElseThrow(() -> new IllegalArgumentException("giftId: not in the catalogue: " + giftId));
    long orderId = nextId();
    long now = orderId >>> 12;
    long streamer = roomId * 10 + 7;
    long amount = gift.price() * count;
    String table = table(uid, now);
    String orderKey = uid + ":" + orderId + ":" + now;
    DataSource shard = shards.of(uid);
    try (Connection c = shard.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT IGNORE INTO gift_request (uid, client_request_id, order_id, created_at) VALUES (?, ?, ?, ?)")) {
          ps.setLong(1, uid);
          ps.setString(2, requestId);
          ps.setLong(3, orderId);
          ps.setLong(4, now);
          if (ps.executeUpdate() == 0) {
            Result earlier = earlier(c, uid, requestId);
            c.commit();
            return earlier;
          }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (order_id, uid, room_id, streamer_uid,"
            + " gift_id, gift_count, amount, status, site, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'PAYMENT_UNKNOWN', 'a', ?)")) {
          ps.setLong(1, orderId);
          ps.setLong(2, uid);
          ps.setLong(3, roomId);
          ps.setLong(4, streamer);
          ps.setLong(5, giftId);
          ps.setInt(6, count);
          ps.setLong(7, amount);
          ps.setLong(8, now);
          ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO order_recheck (order_key, due_at) VALUES (?, ?)")) {
          ps.setString(1, orderKey);
          ps.setLong(2, now + FIRST_RECHECK_MS);
          ps.executeUpdate();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
    if (!paymentBudget.call(() -> charge(orderId, uid, amount), 200).orElse(false)) {
      return new Result(orderId, "PAYMENT_UNKNOWN", false, now); // late, failed or declined: the re-check settles it
    }
    String event = "{\"orderId\":" + orderId + ",\"uid\":" + uid + ",\"roomId\":" + roomId + ",\"streamerUid\":" + streamer
        + ",\"giftId\":" + giftId + ",\"count\":" + count + ",\"amount\":" + amount + ",\"createdAt\":" + now + "}";
    try (Connection c = shard.getConnection()) {
      c.setAutoCommit(false);
      try {
        boolean marked;
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE " + table + " SET status = 'PAID' WHERE order_id = ? AND status = 'PAYMENT_UNKNOWN'")) {
          ps.setLong(1, orderId);
          marked = ps.executeUpdate() == 1;
        }
        if (marked) {
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO gift_outbox (msg_key, payload) VALUES (?, ?)")) {
            ps.setString(1, Long.toString(orderId));
            ps.setBytes(2, event.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            ps.executeUpdate();
          }
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM order_recheck WHERE order_key = ?")) {
            ps.setString(1, orderKey);
            ps.executeUpdate();
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        return new Result(orderId, "PAYMENT_UNKNOWN", false, now);
      }
    }
    relay.wakeUp((int) (uid % BaselineApplication.SHARDS));
    return new Result(orderId, "PAID", false, now);
  }

  private Result earlier(Connection c, long uid, String requestId) throws SQLException {
    long orderId;
    long createdAt;
    try (PreparedStatement q = c.prepareStatement(
        "SELECT order_id, created_at FROM gift_request WHERE uid = ? AND client_request_id = ?")) {
      q.setLong(1, uid);
      q.setString(2, requestId);
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        orderId = rs.getLong(1);
        createdAt = rs.getLong(2);
      }
    }
    try (PreparedStatement q = c.prepareStatement("SELECT status FROM " + table(uid, createdAt) + " WHERE order_id = ?")) {
      q.setLong(1, orderId);
      try (ResultSet rs = q.executeQuery()) {
        return new Result(orderId, rs.next() ? rs.getString(1) : "PAYMENT_UNKNOWN", true, createdAt);
      }
    }
  }

  /** The simulated provider's charge, idempotent by order id: true if the order is charged. */
  private boolean charge(long orderId, long uid, long amount) {
    try (Connection c = payments.ds().getConnection();
        PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO payment_charge (order_id, uid, amount, state,"
            + " updated_at) VALUES (?, ?, ?, 'CHARGED', ?)")) {
      ps.setLong(1, orderId);
      ps.setLong(2, uid);
      ps.setLong(3, amount);
      ps.setLong(4, System.currentTimeMillis());
      if (ps.executeUpdate() == 1) {
        return true;
      }
      try (PreparedStatement q = c.prepareStatement("SELECT state FROM payment_charge WHERE order_id = ?")) {
        q.setLong(1, orderId);
        try (ResultSet rs = q.executeQuery()) {
          return rs.next() && rs.getString(1).equals("CHARGED");
        }
      }
    } catch (SQLException e) {
      return false; // the answer is unknown: the re-check asks again
    }
  }

  String topic() {
    return topic;
  }

  /** Stops the payment budget's threads. */
  @jakarta.annotation.PreDestroy
  void close() {
    paymentBudget.close();
  }
}
