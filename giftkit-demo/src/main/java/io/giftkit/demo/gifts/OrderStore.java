package io.giftkit.demo.gifts;

import io.giftkit.shard.Consistency;
import io.giftkit.shard.ShardedJdbc;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** Reads and moves orders in their shard and month table, and publishes paid orders' events. */
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
  private final GiftEventPublisher events;

  public OrderStore(ShardedJdbc orders, GiftEventPublisher events) {
    this.orders = orders;
    this.events = events;
  }

  /**
   * Publishes the order's event (settlement applies it once, whatever the repeats), then marks it
   * PAID if it was PAYMENT_UNKNOWN.
   *
   * @param e the event
   * @return whether this call marked it
   */
  public boolean markAndPublish(GiftEvent e) {
    events.publish(e);
    return setStatus(e.uid(), e.orderId(), e.createdAt(), Status.PAID, Status.PAYMENT_UNKNOWN);
  }

  /**
   * Moves an order from one status to another.
   *
   * @return whether it was in {@code from}
   */
  public boolean setStatus(long uid, long orderId, long createdAt, Status to, Status from) {
    return orders.update(uid, Instant.ofEpochMilli(createdAt),
        "UPDATE {table} SET status = ? WHERE order_id = ? AND status = ?", to.name(), orderId, from.name()) == 1;
  }

  /**
   * @return the order, if its row exists
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
