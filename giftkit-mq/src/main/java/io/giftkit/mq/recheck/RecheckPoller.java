package io.giftkit.mq.recheck;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.mq.recheck.RecheckStore.Check;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's loop: looks for due checks every poll interval and runs them, up to
 * {@code concurrency} at once (one at a time on the loop's thread when it is 1), each claimed just
 * before it runs and run for at most {@code checkTimeout} (below the lease), so no check runs outside
 * its lease; then writes the outcome with the claim's owner and attempt in the condition. With more
 * than one lane, checks of one look run side by side on lane threads, each with its own
 * {@link CheckRunner} (handed over through a queue, so one lane uses a runner at a time); their
 * commits share the database's log flushes. A row read while an earlier copy of it is still being
 * claimed is claimed by one of them only (the claim is conditional). Owns its threads;
 * {@link #start()} and {@link #close()} are called by the facade.
 */
final class RecheckPoller {

  private static final Logger LOG = LoggerFactory.getLogger(RecheckPoller.class);

  private final String name;
  private final RecheckStore store;
  private final int concurrency;
  private final java.util.concurrent.BlockingQueue<CheckRunner> idle;
  private final List<CheckRunner> runners = new java.util.ArrayList<>();
  private java.util.concurrent.ExecutorService lanes; // null with one lane
  private OutcomeWriter outcomes; // null with one lane: each outcome is written before the next check
  private volatile long nextErrorLog;
  private final RetryBackoff backoff;
  private final int maxAttempts;
  private final long pollIntervalNanos;
  private final long leaseMillis;
  private final Duration checkTimeout;
  private final long graceNanos;
  private final int batchSize;
  private final Clock clock;
  private final String owner;
  private final RecheckCounters counters;
  private final Listeners<RecheckAlertListener> alertListeners;
  private volatile boolean running;
  private volatile Thread thread;

  RecheckPoller(String name, RecheckStore store, RecheckHandler handler, RetryBackoff backoff, int maxAttempts,
      Duration pollInterval, Duration lease, Duration checkTimeout, int batchSize, int concurrency, Clock clock,
      String owner, RecheckCounters counters, Listeners<RecheckAlertListener> alertListeners) {
    this.name = name;
    this.store = store;
    this.concurrency = concurrency;
    this.idle = new java.util.concurrent.ArrayBlockingQueue<>(concurrency);
    for (int i = 0; i < concurrency; i++) {
      CheckRunner r = new CheckRunner(name, handler, counters);
      runners.add(r);
      idle.add(r);
    }
    this.backoff = backoff;
    this.maxAttempts = maxAttempts;
    this.pollIntervalNanos = pollInterval.toNanos();
    this.leaseMillis = lease.toMillis();
    this.checkTimeout = checkTimeout;
    // half the time left after the bound: the other half is for writing the outcome within the lease
    this.graceNanos = lease.minus(checkTimeout).toNanos() / 2;
    this.batchSize = batchSize;
    this.clock = clock;
    this.owner = owner;
    this.counters = counters;
    this.alertListeners = alertListeners;
  }

  void start() {
    running = true;
    if (concurrency > 1) {
      java.util.concurrent.atomic.AtomicInteger lane = new java.util.concurrent.atomic.AtomicInteger();
      outcomes = new OutcomeWriter(name, store, owner, this::recorded,
          e -> databaseError("writing a group of outcomes (their checks come due again when their leases end)", e));
      lanes = java.util.concurrent.Executors.newFixedThreadPool(concurrency, r -> {
        Thread t = new Thread(r, "giftkit-recheck-" + name + "-lane-" + lane.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
    Thread t = new Thread(this::loop, "giftkit-recheck-" + name);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Stops after the checks in hand (their outcomes are written); waits up to 30 s for them. */
  void close() {
    running = false;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
      if (t != Thread.currentThread()) {
        try {
          t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private void loop() {
    try {
      while (running) {
        int looked = batchSize;
        try {
          List<Check> due = store.due(clock.millis(), batchSize);
          looked = due.size();
          for (Check read : due) {
            CheckRunner runner = nextIdleRunner();
            if (runner == null) {
              break; // closing: unclaimed, nothing to give back
            }
            if (lanes == null) {
              try {
                claimAndRun(read, runner);
              } finally {
                idle.add(runner);
              }
            } else {
              lanes.execute(() -> runOnLane(read, runner));
            }
          }
        } catch (SQLException | RuntimeException e) {
          databaseError("looking for due checks", e);
          looked = 0;
        }
        if (looked < batchSize && running) {
          LockSupport.parkNanos(this, pollIntervalNanos);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only close() of a JVM shutting down gets here
    } finally {
      if (lanes != null) {
        lanes.shutdown(); // the lanes finish the checks in hand and write their outcomes
        try {
          if (!lanes.awaitTermination(30, TimeUnit.SECONDS)) {
            lanes.shutdownNow();
          }
        } catch (InterruptedException e) {
          lanes.shutdownNow();
          Thread.currentThread().interrupt();
        }
        outcomes.close(); // after the lanes: their last outcomes are queued
      }
      runners.forEach(CheckRunner::close);
    }
  }

  /** @return a runner no lane is using, or null once closing */
  private CheckRunner nextIdleRunner() throws InterruptedException {
    while (running) {
      CheckRunner r = idle.poll(pollIntervalNanos, TimeUnit.NANOSECONDS);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  private void runOnLane(Check read, CheckRunner runner) {
    try {
      claimAndRun(read, runner);
    } catch (SQLException | RuntimeException e) {
      databaseError("claiming '" + read.key() + "'", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closing at JVM shutdown: the claim's lease ends, it is due again
    } finally {
      idle.add(runner);
    }
  }

  private void databaseError(String doing, Exception e) {
    counters.databaseErrors.increment();
    long now = System.nanoTime();
    if (now - nextErrorLog >= 0) { // at most one line every 10 s while the database is down
      LOG.warn("re-check '{}': {} failed; trying again in {} ms", name, doing,
          TimeUnit.NANOSECONDS.toMillis(pollIntervalNanos), e);
      nextErrorLog = now + TimeUnit.SECONDS.toNanos(10);
    }
  }

  /** Claims one check (its lease starts now) and runs it within the lease. */
  private void claimAndRun(Check read, CheckRunner runner) throws SQLException, InterruptedException {
    long startedNanos = System.nanoTime();
    long now = clock.millis();
    Check claimed = store.claim(read, owner, now, now + leaseMillis);
    if (claimed == null) {
      return; // another scheduler claimed it first
    }
    if (claimed.attempts() > maxAttempts) { // the last attempt's scheduler died mid-check
      finish(claimed, RecheckResult.alert("unsettled after " + maxAttempts
          + " attempts (the last one did not finish: its scheduler stopped mid-check)"));
      return;
    }
    // the lease began before the claim's round trip: what that took comes off the handler's time
    long bound = checkTimeout.toNanos() - (System.nanoTime() - startedNanos);
    CheckRunner.Outcome ran = runner.run(claimed.key(), claimed.attempts(), bound, graceNanos);
    RecheckResult result;
    switch (ran.kind()) {
      case COMPLETED:
        result = ran.result();
        break;
      case FAILED:
        counters.failures.increment();
        LOG.warn("re-check '{}': checking '{}' (attempt {} of {}) failed", name, claimed.key(), claimed.attempts(),
            maxAttempts, ran.failure());
        result = RecheckResult.retryLater("failed: " + ran.failure());
        break;
      default:
        counters.failures.increment();
        counters.timeouts.increment();
        LOG.warn("re-check '{}': checking '{}' (attempt {} of {}) took longer than checkTimeout {}; interrupted,"
            + " counted as a failed attempt", name, claimed.key(), claimed.attempts(), maxAttempts,
            Checks.describe(checkTimeout));
        result = RecheckResult.retryLater("timed out after " + Checks.describe(checkTimeout));
        break;
    }
    if (result.outcome() == RecheckResult.Outcome.RETRY_LATER && claimed.attempts() >= maxAttempts) {
      result = RecheckResult.alert("unsettled after " + maxAttempts + " attempts: " + result.reason());
    }
    finish(claimed, result);
  }

  private void finish(Check claimed, RecheckResult result) {
    long now = clock.millis();
    String reason = RecheckStore.truncate(result.reason());
    long at = switch (result.outcome()) {
      case RESOLVED -> 0;
      case RETRY_LATER -> now + backoff.delayMillis(claimed.attempts());
      default -> now;
    };
    RecheckStore.Outcome outcome = new RecheckStore.Outcome(claimed, result.outcome(), reason, at);
    if (outcomes != null) {
      outcomes.submit(outcome); // written with others in one transaction; the lane takes the next check
      return;
    }
    boolean written;
    try {
      written = switch (result.outcome()) {
        case RESOLVED -> store.resolve(claimed, owner);
        case RETRY_LATER -> store.retryAt(claimed, owner, at, reason);
        default -> store.alert(claimed, owner, at, reason);
      };
    } catch (SQLException | RuntimeException e) {
      counters.databaseErrors.increment();
      LOG.warn("re-check '{}': writing the outcome {} of '{}' failed; the check comes due again when its lease"
          + " ends", name, result, claimed.key(), e);
      return;
    }
    recorded(outcome, written);
  }

  /** Counts a written outcome (or a lost lease) and raises its alert. */
  private void recorded(RecheckStore.Outcome outcome, boolean written) {
    Check claimed = outcome.claimed();
    if (!written) {
      counters.lostLeases.increment();
      LOG.warn("re-check '{}': '{}' was taken over by another scheduler after this one's lease ({} ms) ran out;"
          + " outcome {} discarded", name, claimed.key(), leaseMillis, outcome.kind());
      return;
    }
    switch (outcome.kind()) {
      case RESOLVED:
        counters.resolved.increment();
        break;
      case RETRY_LATER:
        counters.retried.increment();
        break;
      default:
        counters.alerted.increment();
        RecheckAlert alert = new RecheckAlert(name, claimed.key(), claimed.attempts(), outcome.reason(),
            Instant.ofEpochMilli(outcome.at()));
        LOG.warn("re-check '{}': ALERT for '{}' after {} attempt(s): {}", name, claimed.key(), claimed.attempts(),
            alert.reason());
        alertListeners.fire(l -> l.onAlert(alert));
        break;
    }
  }
}
