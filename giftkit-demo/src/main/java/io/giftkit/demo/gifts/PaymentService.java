package io.giftkit.demo.gifts;

import io.giftkit.demo.faults.FaultInjector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.springframework.stereotype.Component;

/**
 * The simulated payment service. A charge is recorded <em>before</em> the injected latency and
 * errors, as a remote service would have processed it: a timed-out or failed call may still have
 * charged the user. That is what the order re-checks reconcile.
 */
@Component
public class PaymentService {

  /** A charge's state as the payment service knows it. */
  public enum Status { PAID, UNKNOWN }

  private final FaultInjector faults;
  private final Map<Long, Long> charges = new ConcurrentHashMap<>();
  private final LongAdder chargedThenFailed = new LongAdder();

  public PaymentService(FaultInjector faults) {
    this.faults = faults;
  }

  /**
   * Charges an order.
   *
   * @param orderId the order
   * @param amount the amount
   * @throws FaultInjector.SimulatedFailureException when a failure is injected (the charge stands)
   */
  public void charge(long orderId, long amount) {
    charges.putIfAbsent(orderId, amount);
    try {
      faults.apply("payment");
    } catch (RuntimeException e) {
      chargedThenFailed.increment();
      throw e;
    }
  }

  /**
   * @param orderId the order
   * @return whether it was charged
   */
  public Status status(long orderId) {
    faults.apply("payment");
    return charges.containsKey(orderId) ? Status.PAID : Status.UNKNOWN;
  }

  /** @return calls that charged and then failed (injected): the paid-but-unrecorded cases */
  public long chargedThenFailed() {
    return chargedThenFailed.sum();
  }
}
