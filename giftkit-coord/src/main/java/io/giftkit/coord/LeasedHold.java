package io.giftkit.coord;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link EtcdLock} and a {@link Leadership} share: something this process holds through an
 * etcd lease, with a token (its key's create revision), a lost-lease state told once to listeners,
 * and an end (release, resignation) that stops renewing and revokes the lease.
 *
 * @param <O> the public holder ({@code EtcdLock}, {@code Leadership}) listeners are told about
 * @param <L> the listener type
 */
final class LeasedHold<O, L> {

  private static final Logger LOG = LoggerFactory.getLogger(LeasedHold.class);

  private final String what;
  private final String key;
  private final long token;
  private final LeaseKeeper keeper;
  private final Duration timeout;
  private final BiConsumer<L, String> tell;
  private final Listeners<L> listeners;
  private String lostReason;
  private boolean ended;

  /**
   * @param what names it in logs and errors, e.g. {@code etcd lock 'settlement'}
   * @param tell tells one listener that the hold was lost, with the reason
   */
  LeasedHold(String what, String key, long token, LeaseKeeper keeper, Duration timeout, BiConsumer<L, String> tell) {
    this.what = what;
    this.key = key;
    this.token = token;
    this.keeper = keeper;
    this.timeout = timeout;
    this.tell = tell;
    this.listeners = Listeners.create(what);
  }

  String key() {
    return key;
  }

  long token() {
    return token;
  }

  /** Not ended, not lost, and the lease renewed recently enough by this process's clock. */
  boolean valid() {
    synchronized (this) {
      if (ended || lostReason != null) {
        return false;
      }
    }
    return keeper.valid();
  }

  synchronized Optional<String> lostReason() {
    return Optional.ofNullable(lostReason);
  }

  /** Adds a listener told once on loss; told at once, on this thread, if the hold was lost already. */
  void whenLost(L listener) {
    Checks.requireNonNull("listener", listener);
    String reason;
    synchronized (this) {
      reason = lostReason;
      if (reason == null) {
        listeners.add(listener);
        return;
      }
    }
    Listeners<L> once = Listeners.create(what);
    once.add(listener);
    once.fire(l -> tell.accept(l, reason));
  }

  /** Marks the hold lost (once, unless it ended first) and tells the listeners. */
  void lost(String reason) {
    synchronized (this) {
      if (ended || lostReason != null) {
        return;
      }
      lostReason = reason;
    }
    LOG.warn("{} (token {}) lost: {}", what, token, reason);
    listeners.fire(l -> tell.accept(l, reason));
  }

  /**
   * Ends the hold the first time: {@code onEnd} runs, renewing stops and the lease is revoked. Never
   * throws: if etcd does not answer within the timeout, this is logged and the lease runs out by its TTL.
   *
   * @param doing what ending it is called, e.g. {@code releasing etcd lock 'x'} (in a timeout's error)
   * @param ending the noun for a log line, e.g. {@code release}
   * @return false if it had ended before (nothing done)
   */
  boolean end(String doing, String ending, Runnable onEnd) {
    synchronized (this) {
      if (ended) {
        return false;
      }
      ended = true;
    }
    onEnd.run();
    keeper.stop();
    try {
      Etcd.await(keeper.revokeAsync(), timeout, doing);
    } catch (RuntimeException e) {
      LOG.warn("{}: {} failed, the lease expires by its TTL: {}", what, ending, e.getMessage());
    }
    return true;
  }
}
