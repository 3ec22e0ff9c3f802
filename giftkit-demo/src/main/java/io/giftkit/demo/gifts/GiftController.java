package io.giftkit.demo.gifts;

import io.giftkit.core.Checks;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.demo.rooms.RoomInfo;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** Sending gifts, room pages and reconciliation alerts. */
@RestController
public class GiftController {

  private final GiftOrderService orders;
  private final RoomDirectory rooms;
  private final Reconciliation reconciliation;

  private final io.giftkit.demo.timeline.Timeline timeline;

  public GiftController(GiftOrderService orders, RoomDirectory rooms, Reconciliation reconciliation,
      io.giftkit.demo.timeline.Timeline timeline) {
    this.timeline = timeline;
    this.orders = orders;
    this.rooms = rooms;
    this.reconciliation = reconciliation;
  }

  /**
   * {@code POST /api/gifts} {@code {"uid":1001,"roomId":1,"giftId":2,"count":3,"clientRequestId":"r-1"}}.
   *
   * @param req the send
   * @return the order id and status ({@code PAID}, {@code FAILED}, {@code PAYMENT_UNKNOWN}); a retried
   *     request id returns the same order with {@code duplicate: true}
   */
  @PostMapping("/api/gifts")
  public GiftOrderService.Result send(@RequestBody SendGift req) {
    long start = System.nanoTime();
    boolean failed = true;
    try {
      GiftOrderService.Result r = orders.send(req);
      failed = false;
      return r;
    } catch (io.giftkit.core.InvalidConfigException badInput) {
      failed = false; // a 400 is the client's error, not the system's
      throw badInput;
    } finally {
      timeline.send(System.nanoTime() - start, failed);
    }
  }

  /**
   * {@code GET /api/rooms/{roomId}}: the room through the tiered cache.
   *
   * @param roomId the room
   * @return its page data and whether it came from process memory (a hot room)
   */
  @GetMapping("/api/rooms/{roomId}")
  public Map<String, Object> room(@PathVariable long roomId) {
    Checks.requirePositive("roomId", roomId);
    RoomInfo info = rooms.info(roomId);
    return Map.of("room", info, "servedFromMemory", rooms.inMemory(roomId));
  }

  /**
   * {@code GET /api/reconciliation/alerts}: the open reconciliation alerts, one per disagreement
   * between the payment provider, the orders and the ledger (see {@link Reconciliation}).
   *
   * @return the alerts, oldest first
   */
  @GetMapping("/api/reconciliation/alerts")
  public List<Reconciliation.Alert> alerts() throws SQLException {
    return reconciliation.alerts();
  }
}
