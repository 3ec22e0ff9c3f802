package io.giftkit.mq.recheck;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Writes the outcomes of checks run side by side in groups: a lane hands its outcome over and takes
 * the next check; this writer's thread writes whatever has gathered (at most 500) in one transaction,
 * so many checks share one commit, then reports each outcome as written or not (the lease was lost).
 * Outcomes wait only for the group in front of them, far inside the lease. Used when a scheduler runs
 * more than one check at once; {@link #close()} writes what is still queued.
 */
final class OutcomeWriter implements AutoCloseable {

  private static final int MAX_GROUP = 500;
  /** Put by {@link #close()} behind the queued outcomes: wakes the writer, which stops once it is reached. */
  private static final RecheckStore.Outcome STOP = new RecheckStore.Outcome(null, null, "stop", 0);

  private final RecheckStore store;
  private final String owner;
  private final BiConsumer<RecheckStore.Outcome, Boolean> written;
  private final Consumer<Exception> failed;
  private final BlockingQueue<RecheckStore.Outcome> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * @param written told of each outcome after its group's commit: whether this owner still held it
   * @param failed told when a group's transaction failed (nothing of it was written: each check
   *     comes due again when its lease ends)
   */
  OutcomeWriter(String name, RecheckStore store, String owner, BiConsumer<RecheckStore.Outcome, Boolean> written,
      Consumer<Exception> failed) {
    this.store = store;
    this.owner = owner;
    this.written = written;
    this.failed = failed;
    this.thread = new Thread(this::loop, "giftkit-recheck-" + name + "-outcomes");
    thread.setDaemon(true);
    thread.start();
  }

  void submit(RecheckStore.Outcome outcome) {
    queue.add(outcome);
  }

  private void loop() {
    List<RecheckStore.Outcome> group = new ArrayList<>(MAX_GROUP);
    boolean stop = false;
    while (!stop) {
      try {
        group.add(queue.take()); // blocks while idle: no timed wake-ups
        queue.drainTo(group, MAX_GROUP - 1);
        stop = group.removeIf(o -> o == STOP); // nothing is submitted after close(), so STOP is the last one
        if (!group.isEmpty()) {
          write(group);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        group.clear();
      }
    }
  }

  private void write(List<RecheckStore.Outcome> group) {
    boolean[] done;
    try {
      done = store.finishAll(group, owner);
    } catch (SQLException | RuntimeException e) {
      failed.accept(e);
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      written.accept(group.get(i), done[i]);
    }
  }

  /** Writes what is queued (waiting up to 30 s), then stops. */
  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    queue.add(STOP);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
