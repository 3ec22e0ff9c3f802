package io.giftkit.coord;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A held etcd lock, from {@link EtcdLocks#tryLock} or {@link EtcdLocks#lock}: its fencing token, whether
 * it is still held, a way to hear that it was lost, and {@link #close()} to release it.
 *
 * <p><b>The fencing token</b> is the create revision of the lock's key in etcd. Every later holder of
 * the same lock name gets a strictly higher token (etcd grants the lock in create-revision order and
 * revisions only grow), so a resource that remembers the highest token it accepted can refuse a
 * write from a holder that lost the lock without knowing it ({@link FencedWrite}). {@link #isHeld()}
 * alone cannot give that: between the check and the write the lease may expire.
 *
 * <p>Thread-safe. {@link #close()} blocks for one etcd round trip at most the locks' timeout.
 */
public final class EtcdLock implements AutoCloseable {

  private final String name;
  private final LeasedHold<EtcdLock, LockLostListener> hold;
  private final Consumer<EtcdLock> onRelease;
  private final long acquiredAt;

  EtcdLock(String name, String key, long fencingToken, LeaseKeeper keeper, Duration timeout, long acquiredAt,
      Consumer<EtcdLock> onRelease) {
    this.acquiredAt = acquiredAt;
    this.onRelease = onRelease;
    this.name = name;
    this.hold = new LeasedHold<>("etcd lock '" + name + "'", key, fencingToken, keeper, timeout,
        (listener, reason) -> listener.onLost(this, reason));
  }

  /** The locks' ticker reading when the lock was granted. */
  long acquiredAt() {
    return acquiredAt;
  }

  /** @return the lock's name, as passed to {@link EtcdLocks} */
  public String name() {
    return name;
  }

  /** @return the etcd key this holder created (prefix, name, lease id) */
  public String key() {
    return hold.key();
  }

  /** @return the fencing token: the create revision of {@link #key()}; higher for every later holder */
  public long fencingToken() {
    return hold.token();
  }

  /**
   * Whether this process can still count on holding the lock: not released, not lost, and the lease
   * renewed recently enough that by this process's clock it has not run out. A true answer can be
   * stale by the time the caller acts on it; guard writes with the {@link #fencingToken()}.
   *
   * @return whether the lock is held
   */
  public boolean isHeld() {
    return hold.valid();
  }

  /** @return why the lock was lost, or empty while held or after a plain release */
  public Optional<String> lostReason() {
    return hold.lostReason();
  }

  /**
   * Adds a listener told once if the lock is lost (not when it is released by {@link #close()}). If
   * it was lost already, the listener is told at once, on this thread.
   *
   * @param listener the listener; a throwing listener is logged and ignored
   * @return this lock
   */
  public EtcdLock whenLost(LockLostListener listener) {
    hold.whenLost(listener);
    return this;
  }

  void lost(String reason) {
    hold.lost(reason);
  }

  /**
   * Releases the lock: stops renewing and revokes the lease, which deletes the key so the next
   * contender gets the lock. Does nothing the second time. Never throws: if etcd does not answer
   * within the timeout, this is logged and the lease runs out by its TTL.
   */
  @Override
  public void close() {
    hold.end("releasing etcd lock '" + name + "'", "release", () -> onRelease.accept(this));
  }

  @Override
  public String toString() {
    return "EtcdLock[" + name + ", token " + hold.token() + (isHeld() ? ", held]" : ", not held]");
  }
}
