package io.giftkit.mq.outbox;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One source database's relay loop, on its own daemon thread: own the table (take or renew its lease;
 * stand by while another relay owns it), read due rows, send them in id order, wait for the
 * acknowledgements, delete the acknowledged rows, write the others back with a retry time (or park
 * them), then look again at once (a full batch), after the poll interval (less, or nothing left) or
 * after the back-off (a failure). See {@link OutboxRelay} for the whole contract.
 * Its state belongs to its thread; {@link #wakeUp} and {@link #stop} may be called from any thread.
 */
final class SourceRelay implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int MAX_CLAIMED_BY = 64;

  /** The relay-wide settings and counters the sources share. */
  record Shared(String relayName, Producer<byte[], byte[]> producer, Clock clock, int batchSize,
      long pollNanos, long leaseMillis, long backoffInitialNanos, long backoffMaxNanos, int maxAttempts,
      AtomicLong lastAckNanos, LongAdder published, LongAdder sendFailures, LongAdder databaseErrors,
      LongAdder parked) {}

  private record Sent(OutboxTable.Row row, Future<RecordMetadata> ack, long sentAt) {}

  private record Failure(OutboxTable.Row row, Throwable error, long sentAt) {}

  private final String source;
  private final OutboxTable table;
  private final Shared shared;
  private final String token;
  private volatile boolean running = true;
  private volatile boolean wakeRequested;
  private volatile Thread thread;
  private long ownedUntil; // epoch millis of the clock; 0 while not owning the table
  private long nextFailureLog;
  private long nextParkLog;

  SourceRelay(String source, OutboxTable table, Shared shared) {
    this.source = source;
    this.table = table;
    this.shared = shared;
    String prefix = shared.relayName().length() > 27 ? shared.relayName().substring(0, 27) : shared.relayName();
    this.token = prefix + "-" + UUID.randomUUID(); // at most 64 characters
  }

  String source() {
    return source;
  }

  OutboxTable table() {
    return table;
  }

  void start(Thread t) {
    thread = t;
    t.start();
  }

  /** Looks now instead of at the end of the poll interval; ignored while backing off after a failure. */
  void wakeUp() {
    wakeRequested = true;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  void stop() {
    running = false;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** @return whether the thread ended within the wait */
  boolean join(long millis) throws InterruptedException {
    Thread t = thread;
    if (t == null || t == Thread.currentThread()) {
      return true;
    }
    t.join(Math.max(1, millis));
    return !t.isAlive();
  }

  @Override
  public void run() {
    long backoff = shared.backoffInitialNanos();
    while (running) {
      String problem = null;
      boolean full = false;
      boolean owner = false;
      try {
        long now = shared.clock().millis();
        owner = owns(now);
        if (owner) {
          List<OutboxTable.Row> rows = table.due(now, shared.batchSize());
          full = rows.size() == shared.batchSize();
          problem = rows.isEmpty() ? null : publish(rows);
        }
      } catch (SQLException | RuntimeException e) {
        shared.databaseErrors().increment();
        problem = "the database failed: " + e;
      }
      if (problem != null) {
        warnRarely(problem, backoff);
        idle(backoff, false); // wake-ups do not cut a back-off short: no hot loop while something is down
        backoff = Math.min(backoff * 2, shared.backoffMaxNanos());
      } else {
        backoff = shared.backoffInitialNanos();
        if (!owner) {
          idle(standbyNanos(), false); // another relay owns the table: wake-ups are its business
        } else if (!full) {
          idle(shared.pollNanos(), true);
        }
      }
    }
    if (ownedUntil != 0) {
      try {
        table.release(token); // another relay takes over at its next look, not after the lease
      } catch (SQLException | RuntimeException e) {
        LOG.info("outbox relay '{}', source '{}': releasing the table failed ({}); another relay takes it"
            + " over when the lease ends", shared.relayName(), source, e.toString());
      }
    }
  }

  /**
   * Whether this loop owns the source's table now, taking or renewing the ownership when less than
   * half the lease is left: one statement per half lease while owning, one per stand-by look otherwise.
   */
  private boolean owns(long now) throws SQLException {
    if (ownedUntil - now > shared.leaseMillis() / 2) {
      return true;
    }
    long until = now + shared.leaseMillis();
    if (table.own(token, now, until)) {
      if (ownedUntil == 0) {
        LOG.info("outbox relay '{}', source '{}': owns the outbox table now (token {})", shared.relayName(), source,
            token);
      }
      ownedUntil = until;
      return true;
    }
    if (ownedUntil != 0) {
      LOG.warn("outbox relay '{}', source '{}': lost the outbox table to another relay (this one was paused past"
          + " its lease?); standing by", shared.relayName(), source);
      ownedUntil = 0;
    }
    return false;
  }

  // A stand-by loop looks every tenth of the lease (at least the poll interval): a crashed owner is
  // replaced within the lease and a tenth, a released table is taken over within a tenth.
  private long standbyNanos() {
    return Math.max(shared.pollNanos(), TimeUnit.MILLISECONDS.toNanos(shared.leaseMillis() / 10));
  }

  /** @return null if every row was acknowledged, else what went wrong (the loop backs off) */
  private String publish(List<OutboxTable.Row> rows) throws SQLException {
    // The acknowledgements are awaited while this loop owns the table, at most 90% of the lease.
    long ownedFor = Math.min(shared.leaseMillis() * 9 / 10, ownedUntil - shared.clock().millis());
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, ownedFor));
    List<Sent> sent = new ArrayList<>(rows.size());
    List<Failure> failures = new ArrayList<>();
    List<OutboxTable.Row> unsent = new ArrayList<>();
    Set<String> blockedTopics = new HashSet<>();
    for (OutboxTable.Row row : rows) {
      if (blockedTopics.contains(row.topic())) {
        unsent.add(row);
        continue;
      }
      long sentAt = System.nanoTime();
      try {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(row.topic(), null,
            row.key() == null ? null : row.key().getBytes(StandardCharsets.UTF_8), row.payload(),
            java.util.Arrays.asList(OutboxHeaders.decode(row.headers())));
        Future<RecordMetadata> ack = shared.producer().send(record, (metadata, error) -> {
          if (error == null) {
            shared.lastAckNanos().accumulateAndGet(System.nanoTime(), Math::max);
          }
        });
        Throwable early = failedAlready(ack);
        if (early == null) {
          sent.add(new Sent(row, ack, sentAt));
        } else {
          sendFailed(row, early, sentAt, failures, blockedTopics);
        }
      } catch (RuntimeException e) {
        sendFailed(row, e, sentAt, failures, blockedTopics);
      }
    }
    List<Long> acked = new ArrayList<>(sent.size());
    List<OutboxTable.Row> unknown = new ArrayList<>();
    for (Sent s : sent) {
      try {
        s.ack().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        acked.add(s.row().id());
      } catch (ExecutionException e) {
        failures.add(new Failure(s.row(), e.getCause() == null ? e : e.getCause(), s.sentAt()));
      } catch (TimeoutException e) {
        unknown.add(s.row()); // due again once its send has surely ended (sent again: at least once)
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        unknown.add(s.row());
      }
    }
    shared.published().add(acked.size());
    table.delete(acked); // if this fails, the rows are still due and are sent again

    long now = shared.clock().millis();
    List<OutboxTable.Outcome> outcomes = new ArrayList<>(failures.size() + unsent.size());
    Throwable firstError = null;
    for (Failure f : failures) {
      if (!running) { // the producer is closing under us: not the row's fault, try again soon
        outcomes.add(new OutboxTable.Outcome(f.row().id(), now, null, false));
        continue;
      }
      shared.sendFailures().increment();
      firstError = firstError == null ? f.error() : firstError;
      int attempt = f.row().attempts() + 1;
      // The row's own fault: Kafka says so, or the broker acknowledged another record meanwhile.
      boolean own = ownFault(f.error()) || shared.lastAckNanos().get() - f.sentAt() > 0;
      if (own && attempt >= shared.maxAttempts()) {
        String reason = Outbox.PARKED_PREFIX + f.error().getClass().getSimpleName();
        outcomes.add(new OutboxTable.Outcome(f.row().id(), Outbox.PARKED,
            reason.length() > MAX_CLAIMED_BY ? reason.substring(0, MAX_CLAIMED_BY) : reason, true));
        shared.parked().increment();
        logParked(f, attempt);
      } else {
        long wait = Math.min(shared.backoffMaxNanos(),
            shared.backoffInitialNanos() << Math.min(attempt - 1, 30));
        outcomes.add(new OutboxTable.Outcome(f.row().id(), now + TimeUnit.NANOSECONDS.toMillis(wait), null, true));
      }
    }
    for (OutboxTable.Row row : unsent) {
      outcomes.add(new OutboxTable.Outcome(row.id(), now, null, false));
    }
    for (OutboxTable.Row row : unknown) { // the producer gives up on it within delivery.timeout.ms < lease/2
      outcomes.add(new OutboxTable.Outcome(row.id(), now + shared.leaseMillis() / 2, null, false));
    }
    table.update(outcomes);
    if (failures.isEmpty() && unknown.isEmpty() && unsent.isEmpty()) {
      return null;
    }
    return (failures.size() + unknown.size() + unsent.size()) + " of " + rows.size() + " rows not acknowledged ("
        + failures.size() + " failed, " + unknown.size() + " still in flight when the wait ended, " + unsent.size()
        + " not sent behind a failure), first error: " + (firstError == null ? "none" : firstError.toString());
  }

  // send() failed at once (it reports most errors, e.g. no metadata within max.block.ms, as a failed
  // future after blocking, and some by throwing).
  private static void sendFailed(OutboxTable.Row row, Throwable e, long sentAt, List<Failure> failures,
      Set<String> blockedTopics) {
    failures.add(new Failure(row, e, sentAt));
    if (!ownFault(e)) {
      // Each further send to this topic would block as long again: leave those rows for the next round.
      blockedTopics.add(row.topic());
    }
  }

  private static Throwable failedAlready(Future<RecordMetadata> ack) {
    if (!ack.isDone()) {
      return null;
    }
    try {
      ack.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause() == null ? e : e.getCause();
    } catch (InterruptedException e) { // cannot happen for a completed future
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * Whether a failure is the record's own, whatever the broker's state: a non-retriable Kafka error
   * (record too large, invalid topic, a header encoding this relay cannot read …). Retriable errors
   * (timeouts, no leader, unknown topic while metadata is missing) and security failures look the same
   * for every record when the broker is down or misconfigured, so they alone never park a row.
   */
  private static boolean ownFault(Throwable e) {
    return !(e instanceof RetriableException || e instanceof AuthenticationException
        || e instanceof AuthorizationException || e instanceof org.apache.kafka.common.errors.InterruptException
        || e instanceof IllegalStateException); // IllegalStateException: the producer was closed
  }

  private void idle(long nanos, boolean wakeable) {
    long until = System.nanoTime() + nanos;
    while (running) {
      if (wakeable && wakeRequested) {
        wakeRequested = false;
        return;
      }
      long left = until - System.nanoTime();
      if (left <= 0) {
        return;
      }
      Thread.interrupted(); // nobody interrupts this thread on purpose; a stray interrupt must not spin it
      LockSupport.parkNanos(this, left);
    }
  }

  // Kafka's and the drivers' messages carry no payloads; the producer configuration is never logged.
  private void warnRarely(String problem, long backoffNanos) {
    long now = System.nanoTime();
    if (running && now - nextFailureLog >= 0) {
      nextFailureLog = now + LOG_EVERY_NANOS;
      LOG.warn("outbox relay '{}', source '{}': {}; backing off {} ms (at most one such line per 10 s)",
          shared.relayName(), source, problem, TimeUnit.NANOSECONDS.toMillis(backoffNanos));
    }
  }

  private void logParked(Failure f, int attempt) {
    long now = System.nanoTime();
    if (now - nextParkLog >= 0) {
      nextParkLog = now + LOG_EVERY_NANOS;
      LOG.warn("outbox relay '{}', source '{}': row {} (topic {}) PARKED after {} failed sends, the last one {};"
          + " it stays in the table, never due again until Outbox.retryParked (at most one such line per 10 s;"
          + " parked() counts them all)", shared.relayName(), source, f.row().id(), f.row().topic(), attempt,
          f.error().toString());
    }
  }
}
