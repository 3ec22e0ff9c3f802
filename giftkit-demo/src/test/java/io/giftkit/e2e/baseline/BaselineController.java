package io.giftkit.e2e.baseline;

import com.github.benmanes.caffeine.cache.Cache;
import io.giftkit.demo.panel.Gift;
import io.giftkit.demo.rooms.RoomInfo;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/** The demo's three hot endpoints, the same JSON in and out, written directly. */
@RestController
public class BaselineController {

  /** The send's body (the demo's {@code SendGift}). */
  public record Send(Long uid, Long roomId, Long giftId, Integer count, String clientRequestId) {}

  /** The panel (the demo's shape). */
  public record Panel(long roomId, List<Gift> gifts, List<Gift> privileged, String privilegedSource,
      String privilegedOutcome) {}

  private final BaselineGifts gifts;
  private final BaselineApplication.Control control;
  private final StatefulRedisConnection<String, String> redis;
  private final Cache<Long, RoomInfo> memory;
  /** The privileged gifts' 50 ms budget and last good answer per user (the demo's breaker settings), by hand. */
  private final BaselineBudget privilegedBudget = new BaselineBudget("privileged-gifts");
  private final Cache<Long, List<Gift>> lastGood = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
      .maximumSize(100_000).expireAfterWrite(java.time.Duration.ofMinutes(10)).build();
  private final JsonMapper json = JsonMapper.builder().build();

  public BaselineController(BaselineGifts gifts, BaselineApplication.Control control,
      StatefulRedisConnection<String, String> redis, Cache<Long, RoomInfo> roomMemory) {
    this.gifts = gifts;
    this.control = control;
    this.redis = redis;
    this.memory = roomMemory;
  }

  @PostMapping("/api/gifts")
  public BaselineGifts.Result send(@RequestBody Send s) throws SQLException {
    if (s.uid() == null || s.uid() < 0 || s.roomId() == null || s.roomId() <= 0 || s.giftId() == null
        || s.count() == null || s.count() < 1 || s.count() > 9_999 || s.clientRequestId() == null
        || s.clientRequestId().isBlank() || s.clientRequestId().length() > 64) {
      throw new IllegalArgumentException("bad send: " + s);
    }
    return gifts.send(s.uid(), s.roomId(), s.giftId(), s.count(), s.clientRequestId());
  }

  @GetMapping("/api/rooms/{roomId}/panel")
  public Panel panel(@PathVariable long roomId, @RequestParam long uid) {
    if (roomId <= 0 || uid < 0) {
      throw new IllegalArgumentException("bad panel request: room " + roomId + ", uid " + uid);
    }
    java.util.Optional<List<Gift>> fresh = privilegedBudget.call(() -> privileged(uid), 50);
    if (fresh.isPresent()) {
      lastGood.put(uid, fresh.get());
      return new Panel(roomId, BaselineGifts.CATALOG, fresh.get(), "FRESH", "SUCCESS");
    }
    List<Gift> cached = lastGood.getIfPresent(uid);
    return cached != null ? new Panel(roomId, BaselineGifts.CATALOG, cached, "CACHED", "TIMEOUT")
        : new Panel(roomId, BaselineGifts.CATALOG, List.of(), "DEFAULT", "TIMEOUT");
  }

  /** The simulated privileged-gift service (the demo's, without fault injection). */
  private static List<Gift> privileged(long uid) {
    return List.of(new Gift(1_000 + uid % 7, "privilege-" + uid % 7, 0));
  }

  /** Stops the budget's threads. */
  @jakarta.annotation.PreDestroy
  void close() {
    privilegedBudget.close();
  }

  /** The room: process memory (5 s), then Redis (1 min), then the control database. */
  @GetMapping(value = "/api/rooms/{roomId}")
  public Map<String, Object> room(@PathVariable long roomId) {
    if (roomId <= 0) {
      throw new IllegalArgumentException("roomId must be positive: " + roomId);
    }
    boolean inMemory = memory.getIfPresent(roomId) != null;
    RoomInfo info = memory.get(roomId, id -> {
      String key = "baseline:room:" + id;
      String v = redis.sync().get(key);
      if (v != null) {
        return json.readValue(v, RoomInfo.class);
      }
      RoomInfo loaded = load(id);
      redis.sync().set(key, json.writeValueAsString(loaded), SetArgs.Builder.ex(60));
      return loaded;
    });
    return Map.of("room", info, "servedFromMemory", inMemory);
  }

  private RoomInfo load(long roomId) {
    List<RoomInfo.Sender> top = new ArrayList<>();
    try (Connection c = control.ds().getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT uid, total FROM room_ranking WHERE room_id = ? ORDER BY total DESC, uid LIMIT 10")) {
      ps.setLong(1, roomId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          top.add(new RoomInfo.Sender(rs.getLong(1), rs.getLong(2)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("loading room " + roomId + " failed: " + e.getMessage(), e);
    }
    return new RoomInfo(roomId, "Room " + roomId, roomId * 10 + 7, top, System.currentTimeMillis());
  }

  @ExceptionHandler(IllegalArgumentException.class)
  @ResponseStatus(HttpStatus.BAD_REQUEST)
  public Map<String, String> badRequest(IllegalArgumentException e) {
    return Map.of("error", e.getMessage());
  }
}
