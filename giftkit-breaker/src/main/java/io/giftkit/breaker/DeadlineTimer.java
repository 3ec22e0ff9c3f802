package io.giftkit.breaker;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Expires deadlines in the order they were added, on one daemon thread. Built for deadlines that
 * arrive in order (every call of one breaker has the same budget), so a FIFO queue suffices: adding
 * is one lock-free offer, a call that finishes early costs nothing (the timer skips it when it
 * reaches the head), and there is no per-call scheduled task or cancellation. After the budget is
 * reconfigured downwards, a few deadlines may sit behind a later one and expire up to the
 * difference late; that settles within one old budget.
 */
final class DeadlineTimer {

  /** Something with a deadline. */
  interface Deadline {
    /** @return the {@link System#nanoTime()} at which to expire */
    long deadlineNanos();

    /** @return whether expiring still matters */
    boolean isPending();

    /** Called on the timer thread when the deadline passes while still pending. */
    void expire();
  }

  private final ConcurrentLinkedQueue<Deadline> queue = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean idle;
  private volatile boolean stopped;

  DeadlineTimer(String threadName) {
    thread = new Thread(this::loop, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  void add(Deadline d) {
    queue.offer(d);
    if (idle) {
      LockSupport.unpark(thread);
    }
  }

  void stop() {
    stopped = true;
    LockSupport.unpark(thread);
  }

  private void loop() {
    while (!stopped) {
      Deadline head = queue.peek();
      if (head == null) {
        idle = true;
        if (queue.isEmpty() && !stopped) { // re-check after announcing: add() unparks when idle
          LockSupport.park(this);
        }
        idle = false;
        continue;
      }
      if (!head.isPending()) {
        queue.poll();
        continue;
      }
      long remaining = head.deadlineNanos() - System.nanoTime();
      if (remaining > 0) {
        LockSupport.parkNanos(this, remaining);
        continue;
      }
      queue.poll();
      try {
        head.expire();
      } catch (RuntimeException e) {
        // expire() runs GiftKit code guarded by Listeners; nothing should reach here, but the timer must not die.
        org.slf4j.LoggerFactory.getLogger(DeadlineTimer.class).error("GiftKit: expiring a deadline failed", e);
      }
    }
  }
}
