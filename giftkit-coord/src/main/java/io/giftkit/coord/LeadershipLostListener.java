package io.giftkit.coord;

/**
 * Hears that a {@link Leadership} was lost: its lease expired or was revoked, or could not be renewed
 * before it ran out (a partition, a paused process). Not called when the leader resigns. Called at
 * most once, on a GiftKit or jetcd thread; it must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface LeadershipLostListener {

  /**
   * @param leadership the leadership that is lost ({@link Leadership#isLeader()} is false)
   * @param reason why, for logs
   */
  void onLost(Leadership leadership, String reason);
}
