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
 * The scheduler's loop: looks for due checks every poll interval and runs them one at a time, each
 * claimed just before it runs and run for at most {@code checkTimeout} (below the lease), so no
 * check runs outside its lease; then writes the outcome with the claim's owner and attempt in the
 * condition. Owns its thread; {@link #start()} and {@link #close()} are called by the facade.
 * Thread-safe for start/close; everything else runs on its own thread.
 */
final class RecheckPoller {

  private static final Logger LOG = LoggerFactory.getLogger(RecheckPoller.class);

  private final String name;
  private final RecheckStore store;
  private final CheckRunner runner;
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
      Duration pollInterval, Duration lease, Duration checkTimeout, int batchSize, Clock clock, String owner,
      RecheckCounters counters, Listeners<RecheckAlertListener> alertListeners) {
    this.name = name;
    this.store = store;
    this.runner = new CheckRunner(name, handler, counters);
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
    Thread t = new Thread(this::loop, "giftkit-recheck-" + name);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Stops after the check in hand (its outcome is written); waits up to 30 s for it. */
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
    long nextErrorLog = 0;
    try {
      while (running) {
        int looked = batchSize;
        try {
          List<Check> due = store.due(clock.millis(), batchSize);
          looked = due.size();
          for (Check read : due) {
            if (!running) {
              break; // unclaimed: nothing to give back
            }
            claimAndRun(read);
          }
        } catch (SQLException | RuntimeException e) {
          counters.databaseErrors.increment();
          long now = System.nanoTime();
          if (now - nextErrorLog >= 0) { // at most one line every 10 s while the database is down
            LOG.warn("re-check '{}': looking for due checks failed; trying again in {} ms", name,
                TimeUnit.NANOSECONDS.toMillis(pollIntervalNanos), e);
            nextErrorLog = now + TimeUnit.SECONDS.toNanos(10);
          }
          looked = 0;
        }
        if (looked < batchSize && running) {
          LockSupport.parkNanos(this, pollIntervalNanos);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only close() of a JVM shutting down gets here
    } finally {
      runner.close();
    }
  }

  /** Claims one check (its lease starts now) and runs it within the lease. */
  private void claimAndRun(Check read) throws SQLException, InterruptedException {
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
    boolean written;
    try {
      switch (result.outcome()) {
        case RESOLVED:
          written = store.resolve(claimed, owner);
          break;
        case RETRY_LATER:
          written = store.retryAt(claimed, owner, now + backoff.delayMillis(claimed.attempts()), reason);
          break;
        default:
          written = store.alert(claimed, owner, now, reason);
          break;
      }
    } catch (SQLException | RuntimeException e) {
      counters.databaseErrors.increment();
      LOG.warn("re-check '{}': writing the outcome {} of '{}' failed; the check comes due again when its lease"
          + " ends", name, result, claimed.key(), e);
      return;
    }
    if (!written) {
      counters.lostLeases.increment();
      LOG.warn("re-check '{}': '{}' was taken over by another scheduler after this one's lease ({} ms) ran out;"
          + " outcome {} discarded", name, claimed.key(), leaseMillis, result);
      return;
    }
    switch (result.outcome()) {
      case RESOLVED:
        counters.resolved.increment();
        break;
      case RETRY_LATER:
        counters.retried.increment();
        break;
      default:
        counters.alerted.increment();
        RecheckAlert alert = new RecheckAlert(name, claimed.key(), claimed.attempts(), reason, Instant.ofEpochMilli(now));
        LOG.warn("re-check '{}': ALERT for '{}' after {} attempt(s): {}", name, claimed.key(), claimed.attempts(),
            alert.reason());
        alertListeners.fire(l -> l.onAlert(alert));
        break;
    }
  }
}
