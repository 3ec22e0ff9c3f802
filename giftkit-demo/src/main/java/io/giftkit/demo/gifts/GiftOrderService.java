package io.giftkit.demo.gifts;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerResult;
import io.giftkit.breaker.LatencyBreaker;
import io.giftkit.core.Checks;
import io.giftkit.core.Site;
import io.giftkit.demo.panel.Gift;
import io.giftkit.demo.panel.GiftCatalog;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.shard.ShardedJdbc;
import io.giftkit.shard.id.IdGenerator;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Sends gifts, crash-consistently:
 *
 * <ol>
 *   <li>one transaction in the sender's shard writes the request-id index, the order
 *       ({@code PAYMENT_UNKNOWN}) in its month table and the order's payment re-check: from here on,
 *       whatever instant the process dies at, the re-check settles the order;</li>
 *   <li>the payment service is called through the {@code payment} breaker (200 ms budget, no
 *       last-good fallback: an earlier order's answer never stands for this one), at the instance
 *       {@link PaymentGateway} discovers, local site first;</li>
 *   <li>a clean "charged" → one transaction marks the order PAID, queues its gift event in the
 *       shard's outbox and cancels the re-check; a clean "declined" → FAILED; anything else (a
 *       timeout, an error, an open breaker) leaves the order to its re-check.</li>
 * </ol>
 * The event reaches Kafka through the outbox relay, so a broker outage neither fails a send nor
 * holds its thread. A shard whose database is down fails its sends at once with a 503 naming it.
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

  private final ShardedJdbc orders;
  private final GiftCatalog catalog;
  private final RoomDirectory rooms;
  private final PaymentGateway provider;
  private final OrderStore store;
  private final PaymentRechecks rechecks;
  private final IdGenerator ids;
  private final Site site;
  private final LatencyBreaker<Boolean> payment;
  private final LongAdder created = new LongAdder();
  private final LongAdder duplicates = new LongAdder();

  public GiftOrderService(ShardedJdbc orders, GiftCatalog catalog, RoomDirectory rooms, PaymentGateway provider,
      OrderStore store, PaymentRechecks rechecks, IdGenerator ids, Site site, BreakerRegistry breakers) {
    this.orders = orders;
    this.catalog = catalog;
    this.rooms = rooms;
    this.provider = provider;
    this.store = store;
    this.rechecks = rechecks;
    this.ids = ids;
    this.site = site;
    this.payment = breakers.latencyBreaker("payment", Boolean.FALSE);
  }

  /**
   * Sends a gift.
   *
   * @param req the request (validated here)
   * @return the order
   * @throws io.giftkit.shard.ShardUnavailableException if the sender's shard is down (a 503)
   */
  public Result send(SendGift req) {
    req.validate();
    Gift gift = catalog.find(req.giftId())
        .orElseThrow(() -> Checks.invalid("giftId", "must be a gift of the catalogue", req.giftId()));
    long streamer = rooms.streamerOf(req.roomId());
    long orderId = ids.nextId();
    Instant now = IdGenerator.timestampOf(orderId); // the id carries the creation time (and so the month table)
    long amount = gift.price() * req.count();
    GiftEvent event = new GiftEvent(orderId, req.uid(), req.roomId(), streamer, gift.id(), req.count(), amount,
        now.toEpochMilli());
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
      rechecks.schedule(c, route.shard(), OrderRecheck.key(event)); // the durable intent, with the order
      return null;
    });
    if (existing != null) {
      duplicates.increment();
      return new Result(existing.orderId, store.status(req.uid(), existing.orderId, existing.createdAt).name(), true,
          existing.createdAt);
    }
    created.increment();
    return new Result(orderId, pay(event).name(), false, now.toEpochMilli());
  }

  private record Existing(long orderId, long createdAt) {}

  /**
   * Charges the order. Only a clean answer moves it; anything else leaves it to its re-check,
   * scheduled with the order.
   */
  private OrderStore.Status pay(GiftEvent e) {
    BreakerResult<Boolean> r = payment.call(() -> provider.call(p -> p.charge(e.orderId(), e.uid(), e.amount())));
    if (!r.isFresh()) {
      return OrderStore.Status.PAYMENT_UNKNOWN; // timed out, failed or not called (breaker open): the re-check asks
    }
    try {
      if (Boolean.TRUE.equals(r.value())) {
        return store.markPaid(e, true) ? OrderStore.Status.PAID : store.status(e.uid(), e.orderId(), e.createdAt());
      }
      return store.markFailed(e, true) ? OrderStore.Status.FAILED : store.status(e.uid(), e.orderId(), e.createdAt());
    } catch (RuntimeException settleFailed) {
      LOG.warn("order {}: payment answered {}, but recording it failed ({}); its re-check settles it", e.orderId(),
          r.value(), settleFailed.toString());
      return OrderStore.Status.PAYMENT_UNKNOWN;
    }
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
