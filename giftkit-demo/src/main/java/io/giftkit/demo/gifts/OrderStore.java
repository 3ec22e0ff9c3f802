package io.giftkit.demo.gifts;

import io.giftkit.cache.ValueCodec;
import io.giftkit.mq.outbox.Outbox;
import io.giftkit.mq.outbox.OutboxRelay;
import io.giftkit.shard.Consistency;
import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.ShardedJdbc;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Reads and settles orders in their shard and month table. Marking an order PAID writes its gift
 * event to the shard's outbox in the same transaction; the relay publishes it (see
 * {@link GiftEventRelay}), so a paid order and its event exist together or not at all, and a broker
 * outage neither fails nor holds a send.
 */
@Component
public class OrderStore {

  /** An order's state. */
  public enum Status { PAID, FAILED, PAYMENT_UNKNOWN }

  /**
   * An order row.
   *
   * @param event the gift event it makes
   * @param status its status
   */
  public record Order(GiftEvent event, Status status) {}

  private final ShardedJdbc orders;
  private final ShardRouter router;
  private final Outbox outbox;
  private final OutboxRelay relay;
  private final PaymentRechecks rechecks;
  private final String topic;
  private final ValueCodec<GiftEvent> events;

  public OrderStore(ShardedJdbc orders, ShardRouter router, Outbox outbox, OutboxRelay relay, PaymentRechecks rechecks,
      @Value("${giftkit.demo.gift-topic:gift-events}") String topic, ValueCodec<GiftEvent> events) {
    this.orders = orders;
    this.router = router;
    this.outbox = outbox;
    this.relay = relay;
    this.rechecks = rechecks;
    this.topic = topic;
    this.events = events;
  }

  /**
   * Marks the order PAID if it is PAYMENT_UNKNOWN and, in the same transaction, queues its event
   * in the shard's outbox (and, from the request path, cancels its re-check).
   *
   * @param e the order's event
   * @param cancelRecheck whether to delete the order's pending re-check in the same transaction
   * @return whether this call marked it (false: it was PAID or FAILED already)
   */
  public boolean markPaid(GiftEvent e, boolean cancelRecheck) {
    boolean marked = orders.inTransaction(e.uid(), Instant.ofEpochMilli(e.createdAt()), (c, route) -> {
      if (!move(c, route.table(), e.orderId(), Status.PAID, Status.PAYMENT_UNKNOWN)) {
        return false;
      }
      outbox.add(c, topic, Long.toString(e.orderId()), events.encode(e));
      if (cancelRecheck) {
        rechecks.cancel(c, route.shard(), OrderRecheck.key(e));
      }
      return true;
    });
    if (marked) {
      relay.wakeUp(GiftEventRelay.source(router.shardOf(e.uid())));
    }
    return marked;
  }

  /**
   * Marks the order FAILED if it is PAYMENT_UNKNOWN (the provider declined or voided it).
   *
   * @param e the order's event
   * @param cancelRecheck whether to delete the order's pending re-check in the same transaction
   * @return whether this call marked it
   */
  public boolean markFailed(GiftEvent e, boolean cancelRecheck) {
    return orders.inTransaction(e.uid(), Instant.ofEpochMilli(e.createdAt()), (c, route) -> {
      boolean moved = move(c, route.table(), e.orderId(), Status.FAILED, Status.PAYMENT_UNKNOWN);
      if (moved && cancelRecheck) {
        rechecks.cancel(c, route.shard(), OrderRecheck.key(e));
      }
      return moved;
    });
  }

  private static boolean move(java.sql.Connection c, String table, long orderId, Status to, Status from)
      throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET status = ? WHERE order_id = ? AND status = ?")) {
      ps.setString(1, to.name());
      ps.setLong(2, orderId);
      ps.setString(3, from.name());
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * @return the order, if its row exists (read on the shard's primary)
   */
  public Optional<Order> find(long uid, long orderId, long createdAt) {
    List<Order> rows = orders.query(uid, Instant.ofEpochMilli(createdAt), Consistency.STRONG,
        "SELECT room_id, streamer_uid, gift_id, gift_count, amount, status FROM {table} WHERE order_id = ?",
        rs -> new Order(new GiftEvent(orderId, uid, rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getInt(4),
            rs.getLong(5), createdAt), Status.valueOf(rs.getString(6))), orderId);
    return rows.stream().findFirst();
  }

  /**
   * @return the order's status
   * @throws IllegalStateException if there is no such order
   */
  public Status status(long uid, long orderId, long createdAt) {
    return find(uid, orderId, createdAt).map(Order::status)
        .orElseThrow(() -> new IllegalStateException("order " + orderId + " of uid " + uid + " not found"));
  }
}
