package io.giftkit.e2e.baseline;

import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dependency call bounded by a time budget, written by hand: a fixed pool of threads (as many as
 * GiftKit's breaker allows calls at once, 64, with a queue of 64), {@code Future.get(budget)}, and
 * nothing on time-out or failure (the caller falls back). This is the work the demo's
 * {@code LatencyBreaker} does for its budget, without the breaker's window and states.
 */
final class BaselineBudget implements AutoCloseable {

  private final ThreadPoolExecutor pool;

  BaselineBudget(String name) {
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(64, 64, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(64), r -> {
      Thread t = new Thread(r, "baseline-" + name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * @param call the dependency call
   * @param budgetMillis how long to wait for it
   * @return its answer, or empty if it failed, was refused (pool full) or ran past the budget
   */
  <T> Optional<T> call(Callable<T> call, long budgetMillis) {
    Future<T> f;
    try {
      f = pool.submit(call);
    } catch (RejectedExecutionException full) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(f.get(budgetMillis, TimeUnit.MILLISECONDS));
    } catch (TimeoutException | ExecutionException late) {
      return Optional.empty(); // a late call runs on; its answer is dropped
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
