package io.giftkit.demo.gifts;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerResult;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.breaker.LatencyBreaker;
import io.giftkit.core.Checks;
import io.giftkit.core.Site;
import io.giftkit.demo.panel.Gift;
import io.giftkit.demo.panel.GiftCatalog;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.shard.ShardedJdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Sends gifts: an idempotent order in the sender's shard and month table, a payment call through
 * the {@code payment} breaker, then the gift event to Kafka. A payment that times out or fails is
 * left {@code PAYMENT_UNKNOWN} or {@code FAILED} with a durable re-check scheduled in the same
 * decision; the re-check settles it (see {@link OrderRecheck}).
 */
@Service
public class GiftOrderService {

  /**
   * What a send returned.
   *
   * @param orderId the order
   * @param status its status
   * @param duplicate whether this request id had been seen (the earlier order is returned)
   * @param createdAt when the order was created (epoch ms; with the uid, it locates the order's table)
   */
  public record Result(long orderId, String status, boolean duplicate, long createdAt) {}

  private static final Logger LOG = LoggerFactory.getLogger(GiftOrderService.class);
  private static final long EPOCH = 1_767_225_600_000L; // 2026-01-01

  private final ShardedJdbc orders;
  private final GiftCatalog catalog;
  private final RoomDirectory rooms;
  private final PaymentService payments;
  private final OrderStore store;
  private final DelayedRecheck rechecks;
  private final Site site;
  private final LatencyBreaker<Boolean> payment;
  private final LongAdder created = new LongAdder();
  private final LongAdder duplicates = new LongAdder();

  public GiftOrderService(ShardedJdbc orders, GiftCatalog catalog, RoomDirectory rooms, PaymentService payments,
      OrderStore store, DelayedRecheck rechecks, Site site, BreakerRegistry breakers) {
    this.orders = orders;
    this.catalog = catalog;
    this.rooms = rooms;
    this.payments = payments;
    this.store = store;
    this.rechecks = rechecks;
    this.site = site;
    this.payment = breakers.latencyBreaker("payment", Boolean.FALSE);
  }

  /**
   * Sends a gift.
   *
   * @param req the request (validated here)
   * @return the order
   */
  public Result send(SendGift req) {
    req.validate();
    Gift gift = catalog.find(req.giftId())
        .orElseThrow(() -> Checks.invalid("giftId", "must be a gift of the catalogue", req.giftId()));
    long streamer = rooms.streamerOf(req.roomId());
    Instant now = Instant.now();
    long orderId = ((now.toEpochMilli() - EPOCH) << 20) | ThreadLocalRandom.current().nextInt(1 << 20);
    long amount = gift.price() * req.count();
    Existing existing = orders.inTransaction(req.uid(), now, (c, route) -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT IGNORE INTO gift_request (uid, client_request_id, order_id, created_at) VALUES (?, ?, ?, ?)")) {
        ps.setLong(1, req.uid());
        ps.setString(2, req.clientRequestId());
        ps.setLong(3, orderId);
        ps.setLong(4, now.toEpochMilli());
        if (ps.executeUpdate() == 0) {
          try (PreparedStatement q = c.prepareStatement(
              "SELECT order_id, created_at FROM gift_request WHERE uid = ? AND client_request_id = ?")) {
            q.setLong(1, req.uid());
            q.setString(2, req.clientRequestId());
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              return new Existing(rs.getLong(1), rs.getLong(2));
            }
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + route.table()
          + " (order_id, uid, room_id, streamer_uid, gift_id, gift_count, amount, status, site, created_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setLong(1, orderId);
        ps.setLong(2, req.uid());
        ps.setLong(3, req.roomId());
        ps.setLong(4, streamer);
        ps.setLong(5, gift.id());
        ps.setInt(6, req.count());
        ps.setLong(7, amount);
        ps.setString(8, OrderStore.Status.PAYMENT_UNKNOWN.name());
        ps.setString(9, site.name());
        ps.setLong(10, now.toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
    if (existing != null) {
      duplicates.increment();
      return new Result(existing.orderId, store.status(req.uid(), existing.orderId, existing.createdAt).name(), true,
          existing.createdAt);
    }
    created.increment();
    GiftEvent event = new GiftEvent(orderId, req.uid(), req.roomId(), streamer, gift.id(), req.count(), amount,
        now.toEpochMilli());
    return new Result(orderId, pay(event).name(), false, now.toEpochMilli());
  }

  private record Existing(long orderId, long createdAt) {}

  /**
   * Charges the order; on a clean answer publishes its event and marks it PAID. Anything else (a
   * timeout, an injected failure, an open breaker, a failed publish) leaves it to a durable re-check.
   */
  private OrderStore.Status pay(GiftEvent e) {
    BreakerResult<Boolean> r = payment.call(() -> {
      payments.charge(e.orderId(), e.amount());
      return Boolean.TRUE;
    });
    OrderStore.Status status;
    if (r.isFresh() && Boolean.TRUE.equals(r.value())) {
      try {
        store.markAndPublish(e);
        return OrderStore.Status.PAID;
      } catch (RuntimeException publishFailed) {
        LOG.warn("order {}: paid, but publishing its event failed ({}); the re-check publishes it", e.orderId(),
            publishFailed.toString());
        status = OrderStore.Status.PAYMENT_UNKNOWN;
      }
    } else if (r.outcome() == CallOutcome.FAILURE) {
      status = OrderStore.Status.FAILED; // the payment service said no (it may still have charged: the re-check looks)
      store.setStatus(e.uid(), e.orderId(), e.createdAt(), OrderStore.Status.FAILED, OrderStore.Status.PAYMENT_UNKNOWN);
    } else {
      status = OrderStore.Status.PAYMENT_UNKNOWN; // timed out, or not called (breaker open): the re-check asks again
    }
    try {
      rechecks.schedule(OrderRecheck.key(e), Duration.ofSeconds(2));
    } catch (SQLException ex) {
      LOG.error("order {}: scheduling its payment re-check failed; it stays {}", e.orderId(), status, ex);
    }
    return status;
  }

  /** @return orders created by this instance */
  public long created() {
    return created.sum();
  }

  /** @return retried sends answered with the earlier order */
  public long duplicates() {
    return duplicates.sum();
  }
}
