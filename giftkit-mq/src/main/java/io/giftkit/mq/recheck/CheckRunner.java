package io.giftkit.mq.recheck;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one check's handler on a helper thread for at most a given time, so a check never runs past
 * its lease. When the time is up the helper is interrupted; if it has not ended within a short
 * grace it is abandoned (a new helper thread takes the next check) — Java cannot stop a thread that
 * ignores interruption. Used by one thread at a time (the poller hands a runner to one lane at a
 * time); not thread-safe. Blocks the caller for at most the bound plus the grace.
 */
final class CheckRunner implements AutoCloseable {

  /** How a call ended. {@code result} is set for {@code COMPLETED}, {@code failure} for {@code FAILED}. */
  record Outcome(Kind kind, RecheckResult result, Throwable failure) {}

  enum Kind {
    /** The handler returned a result. */
    COMPLETED,
    /** It threw (an exception or an error) or returned null. */
    FAILED,
    /** It ran out of time and was interrupted (or abandoned). */
    TIMED_OUT
  }

  private final String name;
  private final RecheckHandler handler;
  private final RecheckCounters counters;
  private final AtomicInteger threads = new AtomicInteger();
  private ExecutorService helper;

  CheckRunner(String name, RecheckHandler handler, RecheckCounters counters) {
    this.name = name;
    this.handler = handler;
    this.counters = counters;
  }

  /**
   * @param boundNanos the most the handler may run; not positive: it does not run (timed out)
   * @param graceNanos how long to wait for an interrupted handler to end before abandoning it
   * @throws InterruptedException if the calling thread is interrupted while waiting (the handler
   *     is interrupted too)
   */
  Outcome run(String key, int attempt, long boundNanos, long graceNanos) throws InterruptedException {
    if (boundNanos <= 0) {
      return new Outcome(Kind.TIMED_OUT, null, null);
    }
    CountDownLatch ended = new CountDownLatch(1);
    Future<RecheckResult> call = helper().submit(() -> {
      try {
        return handler.check(key, attempt);
      } finally {
        ended.countDown();
      }
    });
    try {
      RecheckResult result = call.get(boundNanos, TimeUnit.NANOSECONDS);
      return result == null ? new Outcome(Kind.FAILED, null, new NullPointerException("the handler returned null"))
          : new Outcome(Kind.COMPLETED, result, null);
    } catch (ExecutionException e) {
      return new Outcome(Kind.FAILED, null, e.getCause());
    } catch (TimeoutException e) {
      call.cancel(true);
      if (!ended.await(graceNanos, TimeUnit.NANOSECONDS)) {
        abandonHelper();
      }
      return new Outcome(Kind.TIMED_OUT, null, null);
    } catch (InterruptedException e) {
      call.cancel(true);
      throw e;
    }
  }

  private ExecutorService helper() {
    if (helper == null) {
      helper = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "giftkit-recheck-" + name + "-check-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
    return helper;
  }

  private void abandonHelper() {
    counters.abandoned.increment();
    helper.shutdownNow();
    helper = null;
  }

  @Override
  public void close() {
    if (helper != null) {
      helper.shutdownNow();
      helper = null;
    }
  }
}
