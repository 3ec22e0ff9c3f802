package io.giftkit.mq;

import io.giftkit.core.InvalidConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.InvalidTopicException;

/**
 * Decides whether a dead poll loop is restarted, after how long, and runs the restart later on a
 * daemon thread of its own. One job: supervision; the consumer owns the workers.
 *
 * <p>The delay doubles from {@code firstDelay} up to {@code maxDelay} for each restart in a row; a
 * worker that ran for at least {@code maxDelay} before dying starts the count again. Not restarted:
 * what a restart cannot fix (a bad configuration, an invalid topic or group id) and a slot that has
 * been restarted {@code maxRestarts} times in a row.
 *
 * <p>Thread-safe; never blocks.
 */
final class Supervisor {

  private final String name;
  private final int maxRestarts;
  private final long firstDelayNanos;
  private final long maxDelayNanos;
  private final LongAdder restarts = new LongAdder();
  private final ScheduledExecutorService scheduler;
  private final Map<Runnable, AtomicBoolean> pending = new ConcurrentHashMap<>(); // restart → started?

  Supervisor(String name, int maxRestarts, Duration firstDelay, Duration maxDelay) {
    this.name = name;
    this.maxRestarts = maxRestarts;
    this.firstDelayNanos = firstDelay.toNanos();
    this.maxDelayNanos = maxDelay.toNanos();
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-supervisor-" + name);
      t.setDaemon(true);
      return t;
    });
  }

  /** @return whether a restart can help a loop that died of this */
  static boolean restartable(Throwable died) {
    return !(died instanceof ConfigException || died instanceof InvalidConfigException
        || died instanceof InvalidTopicException || died instanceof InvalidGroupIdException);
  }

  /**
   * @param inARow restarts of this slot in a row before this death
   * @param ranNanos how long the worker that died ran
   * @return restarts in a row counting this one (the count starts again after a long enough run),
   *     or -1 if this death must not be restarted
   */
  int next(Throwable died, int inARow, long ranNanos) {
    if (!restartable(died)) {
      return -1;
    }
    int n = (ranNanos >= maxDelayNanos ? 0 : inARow) + 1;
    return n > maxRestarts ? -1 : n;
  }

  /** @return the delay before restart number {@code inARow} (1-based) of a slot */
  long delayNanos(int inARow) {
    double d = firstDelayNanos * Math.pow(2, Math.max(0, inARow - 1));
    return (long) Math.min(d, maxDelayNanos);
  }

  /** Runs {@code restart} after the delay for restart number {@code inARow}; counts it. */
  void schedule(int inARow, Runnable restart) {
    restarts.increment();
    AtomicBoolean claimed = new AtomicBoolean();
    Runnable once = () -> {
      if (claimed.compareAndSet(false, true)) {
        pending.remove(restart);
        restart.run();
      }
    };
    pending.put(restart, claimed);
    try {
      scheduler.schedule(once, delayNanos(inARow), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closedMeanwhile) {
      once.run(); // the consumer closed between the death and now: the restart sees that and settles the slot
    }
  }

  /** @return restarts scheduled so far */
  long restarts() {
    return restarts.sum();
  }

  /**
   * Stops the scheduler and returns the restarts that had not started yet, so the caller can settle
   * them (a cancelled scheduled task never runs, so the executor's own list would not do).
   */
  List<Runnable> close() {
    scheduler.shutdownNow();
    List<Runnable> notStarted = new ArrayList<>();
    for (Map.Entry<Runnable, AtomicBoolean> e : pending.entrySet()) {
      if (e.getValue().compareAndSet(false, true)) {
        notStarted.add(e.getKey());
      }
    }
    pending.clear();
    return notStarted;
  }

  @Override
  public String toString() {
    return "Supervisor{" + name + ", maxRestarts=" + maxRestarts + "}";
  }
}
