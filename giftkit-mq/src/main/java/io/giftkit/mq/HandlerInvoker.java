package io.giftkit.mq;

import io.giftkit.core.Ticker;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
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
        throw new HandlerTimeoutException("the handler took longer than maxProcessingTime ("
            + TimeUnit.NANOSECONDS.toMillis(maxProcessingNanos) + " ms) on " + records.size()
            + " record(s) from " + tp + "@" + records.get(0).offset() + "; it was interrupted");
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

  /** Stops the helper thread (interrupting a handler still running). */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
