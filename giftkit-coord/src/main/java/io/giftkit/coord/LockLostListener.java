package io.giftkit.coord;

/**
 * Hears that a held {@link EtcdLock} was lost: its lease expired or was revoked, or could not be
 * renewed before it ran out (a partition, a paused process). Called at most once per lock, on a
 * GiftKit or jetcd thread; it must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface LockLostListener {

  /**
   * @param lock the lock that is no longer held ({@link EtcdLock#isHeld()} is false)
   * @param reason why, for logs
   */
  void onLost(EtcdLock lock, String reason);
}
