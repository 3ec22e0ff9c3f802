package io.giftkit.demo.gifts;

import io.giftkit.core.Checks;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.demo.rooms.RoomInfo;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckAlert;
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
  private final DelayedRecheck rechecks;

  public GiftController(GiftOrderService orders, RoomDirectory rooms, DelayedRecheck rechecks) {
    this.orders = orders;
    this.rooms = rooms;
    this.rechecks = rechecks;
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
    return orders.send(req);
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
   * {@code GET /api/reconciliation/alerts}: orders a re-check could not settle (charged but recorded
   * failed, unsettled after every attempt).
   *
   * @return the alerts, oldest first
   */
  @GetMapping("/api/reconciliation/alerts")
  public List<RecheckAlert> alerts() throws SQLException {
    return rechecks.alerts();
  }
}
