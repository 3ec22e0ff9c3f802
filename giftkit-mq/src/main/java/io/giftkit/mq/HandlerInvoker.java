package io.giftkit.mq;

import io.giftkit.core.Ticker;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Calls the handler ({@link Dispatch}: the user's handler with its idempotency decorators) on a helper
 * thread, bounded by {@code maxProcessingTime}: a call that takes longer is interrupted and fails with
 * {@link HandlerTimeoutException}; a handler that ignores the interrupt is abandoned (its thread is
 * replaced), so it holds only its own thread, never the poll loop. While it waits, the caller's
 * {@code whileWaiting} runs every 50 ms (lag checks).
 *
 * <p>The deadline is read from the injected {@link Ticker}. One poll loop's thread only; blocks for up
 * to {@code maxProcessingTime}.
 */
final class HandlerInvoker<K, V> implements AutoCloseable {

  /** A handler call that exceeded the max processing time (and was interrupted). */
  static final class HandlerTimeoutException extends Exception {
    private static final long serialVersionUID = 1L;

    HandlerTimeoutException(String message) {
      super(message);
    }
  }

  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final String threadName;
  private final Dispatch<K, V> dispatch;
  private final long maxProcessingNanos;
  private final Ticker ticker;
  private final LongAdder timeouts;
  private ExecutorService executor;
  private int executors;

  /**
   * @param threadName the helper thread's name (a replacement gets a suffix)
   * @param timeouts counts interrupted calls
   */
  HandlerInvoker(String threadName, Dispatch<K, V> dispatch, long maxProcessingNanos, Ticker ticker,
      LongAdder timeouts) {
    this.threadName = threadName;
    this.dispatch = dispatch;
    this.maxProcessingNanos = maxProcessingNanos;
    this.ticker = ticker;
    this.timeouts = timeouts;
    this.executor = newExecutor();
  }

  private ExecutorService newExecutor() {
    String n = threadName + (executors++ == 0 ? "" : "-" + executors);
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, n);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * @param tp the records' partition (for the timeout's message)
   * @param records what to hand to the handler
   * @param whileWaiting run every 50 ms while the handler runs
   * @return how many of the records were duplicates
   * @throws Exception what the handler threw (an {@link Error} too), or {@link HandlerTimeoutException}
   */
  int invoke(TopicPartition tp, List<ConsumerRecord<K, V>> records, Runnable whileWaiting) throws Exception {
    Future<Integer> f = executor.submit(() -> dispatch.handle(records));
    long deadline = ticker.read() + maxProcessingNanos;
    while (true) {
      long left = deadline - ticker.read();
      if (left <= 0) {
        f.cancel(true);
        timeouts.increment();
        executor.shutdownNow();
        executor = newExecutor(); // a handler that ignores the interrupt keeps only its own thread
        throw timeout(tp, records);
      }
      try {
        return f.get(Math.min(left, SLICE_NANOS), TimeUnit.NANOSECONDS);
      } catch (TimeoutException stillRunning) {
        whileWaiting.run();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception) {
          throw (Exception) cause;
        }
        if (cause instanceof Error) {
          throw (Error) cause;
        }
        throw e;
      } catch (InterruptedException e) {
        f.cancel(true);
        Thread.currentThread().interrupt();
        throw e;
      }
    }
  }

  /**
   * How a run of one-record calls ended: records {@code [0, completed)} were handled ({@code
   * duplicates} of them skipped); then record {@code completed} failed with {@code failure}, or the run
   * stopped before it ({@code failure} null: the poll's deadline passed or the consumer is closing),
   * or every record was handled.
   */
  record RunResult(int completed, int duplicates, Throwable failure) {}

  /** Which record of a run the handler thread is on, and since when. */
  private record Current(int index, long startedNanos, int duplicatesBefore) {}

  /**
   * Hands {@code records} (one partition's, in offset order) to the handler thread in one go, where
   * they are handled one at a time through a {@link Dispatch.Run} (one thread hand-off for the run
   * rather than one per record). Each call is bounded by {@code maxProcessingTime} as in
   * {@link #invoke}; no call after the first starts once {@code pollDeadline} has passed or
   * {@code running} is false. The run stops at the first failure.
   *
   * @param whileWaiting run every 50 ms while the handler runs
   */
  RunResult invokeEach(TopicPartition tp, List<ConsumerRecord<K, V>> records, long pollDeadline,
      BooleanSupplier running, Runnable whileWaiting) throws InterruptedException {
    AtomicReference<Current> current = new AtomicReference<>(new Current(0, ticker.read(), 0));
    AtomicBoolean abandoned = new AtomicBoolean();
    Future<RunResult> f = executor.submit(() -> run(records, pollDeadline, running, current, abandoned));
    while (true) {
      Current c = current.get();
      long left = c.startedNanos + maxProcessingNanos - ticker.read();
      if (left <= 0) {
        abandoned.set(true);
        f.cancel(true);
        timeouts.increment();
        executor.shutdownNow();
        executor = newExecutor(); // a handler that ignores the interrupt keeps only its own thread
        return new RunResult(c.index, c.duplicatesBefore, timeout(tp, List.of(records.get(c.index))));
      }
      try {
        return f.get(Math.min(left, SLICE_NANOS), TimeUnit.NANOSECONDS);
      } catch (TimeoutException stillRunning) {
        whileWaiting.run();
      } catch (ExecutionException e) {
        throw new IllegalStateException("a handler run failed outside a handler call", e.getCause());
      } catch (InterruptedException e) {
        abandoned.set(true);
        f.cancel(true);
        throw e;
      }
    }
  }

  /** The handler thread's side of {@link #invokeEach}. */
  private RunResult run(List<ConsumerRecord<K, V>> records, long pollDeadline, BooleanSupplier running,
      AtomicReference<Current> current, AtomicBoolean abandoned) {
    int dups = 0;
    int i = 0;
    Throwable failure = null;
    Dispatch.Run<K, V> run = null;
    try {
      run = dispatch.openRun();
      for (; i < records.size(); i++) {
        if (i > 0) {
          long now = ticker.read();
          if (now - pollDeadline >= 0 || !running.getAsBoolean() || abandoned.get()) {
            break;
          }
          current.set(new Current(i, now, dups));
        }
        if (run.handle(records.get(i))) {
          dups++;
        }
      }
    } catch (Exception | Error e) {
      failure = e;
    } finally {
      if (run != null) {
        try {
          run.close();
        } catch (Exception closeFailed) {
          if (failure != null) {
            failure.addSuppressed(closeFailed);
          } // else: every record that completed was committed; a failed close loses nothing
        }
      }
    }
    return new RunResult(i, dups, failure);
  }

  private HandlerTimeoutException timeout(TopicPartition tp, List<ConsumerRecord<K, V>> records) {
    return new HandlerTimeoutException("the handler took longer than maxProcessingTime ("
        + TimeUnit.NANOSECONDS.toMillis(maxProcessingNanos) + " ms) on " + records.size()
        + " record(s) from " + tp + "@" + records.get(0).offset() + "; it was interrupted");
  }

  /** Stops the helper thread (interrupting a handler still running). */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
