package io.giftkit.demo.gifts;

import io.giftkit.mq.recheck.RecheckResult;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Settles orders whose payment call did not answer cleanly, run by the per-shard
 * {@link PaymentRechecks}: asks the provider what happened and moves the order accordingly.
 *
 * <ul>
 *   <li>charged → PAID, its event queued in the outbox in the same transaction;</li>
 *   <li>voided → FAILED;</li>
 *   <li>nothing recorded → asked again; from attempt {@code void-after-attempts} on, the order is
 *       voided at the provider (atomic: a charge still in flight is then declined) and becomes FAILED,
 *       or PAID if the charge won the race. The re-check never decides FAILED while a charge may
 *       still land.</li>
 * </ul>
 * A provider that does not answer (injected faults, its database down) is retried; a check that
 * exhausts its attempts stays an alert in the shard's re-check table, and the reconciliation sweep
 * raises an alert for the order still unresolved.
 */
@Component
public class OrderRecheck {

  private final OrderStore store;
  private final PaymentGateway provider;
  private final int voidAfterAttempts;

  public OrderRecheck(OrderStore store, PaymentGateway provider,
      @Value("${giftkit.demo.payment-recheck.void-after-attempts:2}") int voidAfterAttempts) {
    this.store = store;
    this.provider = provider;
    this.voidAfterAttempts = voidAfterAttempts;
  }

  /** @return the re-check key of an order: enough to find its shard and month table */
  static String key(GiftEvent e) {
    return key(e.uid(), e.orderId(), e.createdAt());
  }

  static String key(long uid, long orderId, long createdAt) {
    return "order:" + uid + ":" + orderId + ":" + createdAt;
  }

  /**
   * Checks one order.
   *
   * @param key the key from {@link #key}
   * @param attempt 1 for the first attempt
   * @return the outcome
   */
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
      return RecheckResult.alert("order " + orderId + " has no row"); // cannot happen: written in one transaction
    }
    OrderStore.Order order = found.get();
    if (order.status() != OrderStore.Status.PAYMENT_UNKNOWN) {
      return RecheckResult.resolved(); // settled by the request path (mismatches are the sweep's job)
    }
    PaymentProvider.State state = provider.call(pay -> pay.status(orderId)); // a failing provider throws: retried later
    if (state == PaymentProvider.State.NONE) {
      if (attempt < voidAfterAttempts) {
        return RecheckResult.retryLater("no charge at the payment provider yet");
      }
      state = provider.call(pay -> pay.voidUnlessCharged(orderId, uid));
    }
    if (state == PaymentProvider.State.CHARGED) {
      store.markPaid(order.event(), false);
    } else {
      store.markFailed(order.event(), false);
    }
    return RecheckResult.resolved();
  }
}
