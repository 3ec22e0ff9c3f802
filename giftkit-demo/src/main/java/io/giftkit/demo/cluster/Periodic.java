package io.giftkit.demo.cluster;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A task run on a daemon thread of its own with a fixed delay between runs, until closed. */
public final class Periodic implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Periodic.class);

  private final ScheduledExecutorService scheduler;

  private Periodic(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  /**
   * @param thread the thread's name
   * @param initialDelay before the first run
   * @param delay between the end of a run and the next
   * @param task the task; a run that throws is logged and the next one runs as planned
   * @return the running schedule
   */
  public static Periodic every(String thread, Duration initialDelay, Duration delay, Runnable task) {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, thread);
      t.setDaemon(true);
      return t;
    });
    s.scheduleWithFixedDelay(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.error("GiftKit demo: the periodic task on {} failed; it runs again in {}", thread, delay, e);
      }
    }, initialDelay.toMillis(), delay.toMillis(), TimeUnit.MILLISECONDS);
    return new Periodic(s);
  }

  /** Stops the schedule (a run in progress is interrupted). */
  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
