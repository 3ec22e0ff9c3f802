package io.giftkit.demo.rooms;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.boot.cache.GiftkitCaches;
import io.giftkit.boot.cache.GiftkitCodecs;
import io.giftkit.cache.HotKeyDetector;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Rooms: which streamer owns a room, and its page data through the {@code rooms} tiered cache
 * (Caffeine for hot rooms → Redis → the control database, single-flight at each miss; values in Redis
 * are JSON written by Boot's {@code JsonMapper}, {@link GiftkitCodecs}). If Redis does
 * not answer at start-up the rooms are served from process memory only (a WARN says so).
 */
@Component
public class RoomDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(RoomDirectory.class);

  private final DataSource control;
  private final TieredCache<Long, RoomInfo> tiered;
  private final Cache<Long, RoomInfo> memoryOnly;
  private final HotKeyDetector<Long> memoryOnlyHot;
  private final LongAdder loads = new LongAdder();

  public RoomDirectory(GiftkitCaches caches, GiftkitCodecs codecs, DataSource control,
      @Value("${giftkit.cache.redis-url:redis://127.0.0.1:6379}") String redisUrl) {
    this.control = control;
    if (answers(redisUrl)) {
      this.tiered = caches.create("rooms", b -> b.keys(KeyCodec.longs()).values(codecs.json(RoomInfo.class))
          .loader(this::load));
      this.memoryOnly = null;
      this.memoryOnlyHot = null;
    } else {
      LOG.warn("Redis does not answer at {}: rooms are cached in process memory only (L1-only, no cross-instance"
          + " sharing); start Redis for the tiered cache", RedisURI.create(redisUrl).toString());
      this.tiered = null;
      this.memoryOnly = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofSeconds(5)).build();
      this.memoryOnlyHot = HotKeyDetector.<Long>builder().hotWhenCountAtLeast(20).minimumHotCount(20).build();
    }
  }

  private static boolean answers(String url) {
    RedisURI uri = RedisURI.create(url);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * @param roomId a room
   * @return its streamer (the simulated directory: streamer uid = room id × 10 + 7)
   */
  public long streamerOf(long roomId) {
    return roomId * 10 + 7;
  }

  /**
   * @param roomId a room
   * @return its page data
   */
  public RoomInfo info(long roomId) {
    if (tiered != null) {
      return tiered.get(roomId);
    }
    memoryOnlyHot.record(roomId);
    return memoryOnly.get(roomId, this::load);
  }

  private RoomInfo load(Long roomId) {
    loads.increment();
    try {
      List<RoomInfo.Sender> top = new java.util.ArrayList<>();
      try (java.sql.Connection c = control.getConnection(); java.sql.PreparedStatement ps = c.prepareStatement(
          "SELECT uid, total FROM room_ranking WHERE room_id = ? ORDER BY total DESC, uid LIMIT 10")) {
        ps.setLong(1, roomId);
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            top.add(new RoomInfo.Sender(rs.getLong(1), rs.getLong(2)));
          }
        }
      }
      return new RoomInfo(roomId, "Room " + roomId, streamerOf(roomId), top, System.currentTimeMillis());
    } catch (SQLException e) {
      throw new IllegalStateException("loading room " + roomId + " failed: " + e.getMessage(), e);
    }
  }

  /** @return whether the room is served from process memory now (a hot room under the tiered cache) */
  public boolean inMemory(long roomId) {
    return tiered != null ? tiered.inL1(roomId) : memoryOnly.getIfPresent(roomId) != null;
  }

  /** @return whether Redis backs the cache */
  public boolean tieredCache() {
    return tiered != null;
  }

  /** @return the hot rooms now, hottest first, with estimated reads in the window */
  public List<Map<String, Object>> hotRooms(GiftkitCaches caches) {
    HotKeyDetector<?> detector = memoryOnlyHot;
    if (tiered != null) {
      detector = caches.all().stream().filter(e -> e.name().equals("rooms")).map(GiftkitCaches.Entry::detector)
          .filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }
    if (detector == null) {
      return List.of();
    }
    return detector.hotKeys().stream().limit(10).map(h -> Map.<String, Object>of("room", h.key(),
        "reads", h.estimatedCount(), "perSecond", Math.round(h.estimatedRatePerSecond()))).toList();
  }

  /** @return room loads from the database */
  public long loads() {
    return loads.sum();
  }
}
