package io.giftkit.demo.rooms;

import java.util.List;

/**
 * A room's page data, cached (Redis and, for hot rooms, process memory).
 *
 * @param roomId the room
 * @param title its title
 * @param streamerUid its streamer
 * @param topSenders its biggest senders, largest first
 * @param loadedAt when it was loaded from the database (epoch ms): shows how fresh the cached copy is
 */
public record RoomInfo(long roomId, String title, long streamerUid, List<Sender> topSenders, long loadedAt) {

  /**
   * @param uid a sender
   * @param total coins sent in the room
   */
  public record Sender(long uid, long total) {}
}
