package io.giftkit.coord;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * This process's leadership of an election, from {@link EtcdElections#campaign}: its token, whether it
 * still leads, a way to hear that it lost the leadership, and {@link #resign()} to step down.
 *
 * <p><b>The token</b> is the create revision of the leader's key in etcd; every later leader of the
 * same election gets a higher one (etcd makes the oldest key the leader, and revisions only grow). It
 * is a fencing token like {@link EtcdLock#fencingToken()}: a resource that keeps the highest token it
 * accepted refuses a leader that lost the leadership without knowing it, e.g.
 * {@link FencedWrite#update(java.sql.Connection, String, String, String, String, long, Object...)}.
 *
 * <p>Thread-safe. {@link #resign()} blocks for one etcd round trip, at most the elections' timeout.
 */
public final class Leadership implements AutoCloseable {

  private final String election;
  private final String value;
  private final LeasedHold<Leadership, LeadershipLostListener> hold;
  private final Consumer<Leadership> onResign;

  Leadership(String election, String value, String key, long token, LeaseKeeper keeper, Duration timeout,
      Consumer<Leadership> onResign) {
    this.election = election;
    this.value = value;
    this.onResign = onResign;
    this.hold = new LeasedHold<>("etcd election '" + election + "'", key, token, keeper, timeout,
        (listener, reason) -> listener.onLost(this, reason));
  }

  /** @return the election's name */
  public String election() {
    return election;
  }

  /** @return the value this process campaigned with */
  public String value() {
    return value;
  }

  /** @return the etcd key of this leadership (prefix, name, lease id) */
  public String key() {
    return hold.key();
  }

  /** @return the leadership token: the create revision of {@link #key()}; higher for every later leader */
  public long token() {
    return hold.token();
  }

  /**
   * Whether this process can still count on leading: not resigned, not lost, and the lease renewed
   * recently enough that by this process's clock it has not run out. A true answer can be stale by
   * the time the caller acts on it; guard writes with the {@link #token()}.
   *
   * @return whether this process leads
   */
  public boolean isLeader() {
    return hold.valid();
  }

  /** @return why the leadership was lost, or empty while leading or after a plain resignation */
  public Optional<String> lostReason() {
    return hold.lostReason();
  }

  /**
   * Adds a listener told once if the leadership is lost (not when this process resigns). If it was
   * lost already, the listener is told at once, on this thread.
   *
   * @param listener the listener; a throwing listener is logged and ignored
   * @return this leadership
   */
  public Leadership whenLost(LeadershipLostListener listener) {
    hold.whenLost(listener);
    return this;
  }

  void lost(String reason) {
    hold.lost(reason);
  }

  /**
   * Steps down: stops renewing and revokes the lease, which deletes the key, so the next contender
   * leads. Does nothing the second time. Never throws: if etcd does not answer within the timeout,
   * this is logged and the lease runs out by its TTL (the next leader waits until then).
   */
  public void resign() {
    hold.end("resigning from etcd election '" + election + "'", "resigning", () -> onResign.accept(this));
  }

  /** Same as {@link #resign()}. */
  @Override
  public void close() {
    resign();
  }

  @Override
  public String toString() {
    return "Leadership[" + election + ", token " + hold.token() + (isLeader() ? ", leading]" : ", not leading]");
  }
}
