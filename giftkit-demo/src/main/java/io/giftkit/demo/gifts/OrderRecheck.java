package io.giftkit.demo.gifts;

import io.giftkit.mq.recheck.RecheckHandler;
import io.giftkit.mq.recheck.RecheckResult;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Settles orders whose payment call did not answer cleanly (the {@code RecheckHandler} the starter
 * turns into a durable {@code DelayedRecheck}): asks the payment service what happened and
 * reconciles the order with it. Paid but recorded FAILED is a reconciliation alert
 * ({@code GET /api/reconciliation/alerts}).
 */
@Component
public class OrderRecheck implements RecheckHandler {

  private final OrderStore store;
  private final PaymentService payments;

  public OrderRecheck(OrderStore store, PaymentService payments) {
    this.store = store;
    this.payments = payments;
  }

  /** @return the re-check key of an order: enough to find its shard and month table */
  static String key(GiftEvent e) {
    return "order:" + e.uid() + ":" + e.orderId() + ":" + e.createdAt();
  }

  @Override
  public RecheckResult check(String key, int attempt) {
    String[] p = key.split(":");
    if (p.length != 4 || !p[0].equals("order")) {
      return RecheckResult.alert("not an order re-check key: " + key);
    }
    long uid = Long.parseLong(p[1]);
    long orderId = Long.parseLong(p[2]);
    long createdAt = Long.parseLong(p[3]);
    Optional<OrderStore.Order> found = store.find(uid, orderId, createdAt);
    if (found.isEmpty()) {
      return RecheckResult.alert("order " + orderId + " has no row");
    }
    OrderStore.Order order = found.get();
    PaymentService.Status paid = payments.status(orderId); // an injected fault throws: retried later
    switch (order.status()) {
      case PAID:
        return RecheckResult.resolved();
      case FAILED:
        return paid == PaymentService.Status.PAID
            ? RecheckResult.alert("order " + orderId + " (uid " + uid + ", " + order.event().amount()
                + " coins) was charged at the payment service but recorded FAILED")
            : RecheckResult.resolved();
      default:
        if (paid == PaymentService.Status.PAID) {
          store.markAndPublish(order.event());
          return RecheckResult.resolved();
        }
        if (attempt >= 2) {
          store.setStatus(uid, orderId, createdAt, OrderStore.Status.FAILED, OrderStore.Status.PAYMENT_UNKNOWN);
          return RecheckResult.resolved(); // never charged: the order failed
        }
        return RecheckResult.retryLater("no charge at the payment service yet");
    }
  }
}
