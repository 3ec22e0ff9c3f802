package io.giftkit.shard.id;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One claimed worker id: its lease and its reservation, and the one job of keeping them written.
 * All times are epoch milliseconds as the lease table stores them.
 *
 * <p>{@link #reservedUntil} is the reservation this holder last wrote successfully (with an UPDATE
 * conditional on {@code owner = me} and on the reservation it wrote before); the generator issues no
 * timestamp above it. {@link #floor} is the reservation the row carried when it was claimed; the
 * generator issues only timestamps above it. Renewals are serialised by this object's monitor;
 * {@link #reservedUntil} is read without a lock. Thread-safe; {@link #claim}, {@link #renew} and
 * {@link #release} block on the database.
 */
final class WorkerLease {

  private static final Logger LOG = LoggerFactory.getLogger(WorkerLease.class);

  /** How many rows one claim attempt reads. */
  private static final int CANDIDATES = 32;

  private final LeaseTable table;
  private final String owner;
  private final Clock clock;
  private final long leaseMillis;
  private final long aheadMillis;
  private final int workerId;
  private final long floor;

  private volatile long reservedUntil;
  private volatile boolean lost;
  private volatile String lastFailure = "none";
  private final LongAdder renewals = new LongAdder();
  private final LongAdder renewalFailures = new LongAdder();

  private WorkerLease(LeaseTable table, String owner, Clock clock, long leaseMillis,
      long aheadMillis, int workerId, long floor, long reservedUntil) {
    this.table = table;
    this.owner = owner;
    this.clock = clock;
    this.leaseMillis = leaseMillis;
    this.aheadMillis = aheadMillis;
    this.workerId = workerId;
    this.floor = floor;
    this.reservedUntil = reservedUntil;
  }

  /**
   * Claims the lowest worker id that is free or whose lease expired, reserving {@code aheadMillis}
   * beyond the later of now and the row's previous reservation.
   *
   * @throws IdGeneratorUnavailableException if none is free or the table cannot be reached
   */
  static WorkerLease claim(
      LeaseTable table, String owner, Clock clock, long leaseMillis, long aheadMillis) {
    try {
      for (int round = 0; round < 8; round++) {
        long now = clock.millis();
        List<LeaseTable.Row> rows = table.claimable(now, CANDIDATES);
        if (rows.isEmpty()) {
          long[] census = table.census(now);
          if (census[0] == 0) {
            throw IdGeneratorUnavailableException.claimFailed(table.name(),
                "the table has no worker rows; call createTable() first", null);
          }
          throw IdGeneratorUnavailableException.claimFailed(table.name(),
              "all " + census[0] + " worker ids are leased (" + census[1] + " with a lease"
                  + " running past " + Instant.ofEpochMilli(now) + "); a worker id becomes free"
                  + " when its owner closes or its lease expires",
              null);
        }
        for (LeaseTable.Row row : rows) {
          long reserved = Math.max(row.reservedUntil(), now) + aheadMillis;
          if (table.claim(row, owner, now, now + leaseMillis, reserved)) {
            LOG.info("Claimed worker id {} in table {} as {} (previous owner {}, issuing after {})",
                row.workerId(), table.name(), owner, row.owner(),
                Instant.ofEpochMilli(row.reservedUntil()));
            return new WorkerLease(table, owner, clock, leaseMillis, aheadMillis,
                row.workerId(), row.reservedUntil(), reserved);
          }
          // Another instance took this row between our read and our update: try the next one.
        }
      }
      throw IdGeneratorUnavailableException.claimFailed(table.name(),
          "every candidate row was taken by other instances in 8 rounds", null);
    } catch (SQLException e) {
      throw IdGeneratorUnavailableException.claimFailed(table.name(), String.valueOf(e), e);
    }
  }

  int workerId() {
    return workerId;
  }

  long floor() {
    return floor;
  }

  long reservedUntil() {
    return reservedUntil;
  }

  boolean lost() {
    return lost;
  }

  String lastFailure() {
    return lastFailure;
  }

  long renewals() {
    return renewals.sum();
  }

  long renewalFailures() {
    return renewalFailures.sum();
  }

  /**
   * Extends the lease to now + lease duration and the reservation to {@code aheadMillis} beyond the
   * latest of now, {@code logicalMillis} (the generator's logical time) and {@code neededMillis}.
   * Never moves the reservation back.
   *
   * @return true if the row was written; false if the lease was lost (for good) or the database
   *     failed (this time)
   */
  synchronized boolean renew(long logicalMillis, long neededMillis) {
    if (lost) {
      return false;
    }
    long now = clock.millis();
    long last = reservedUntil;
    long target = Math.max(last, Math.max(now, Math.max(logicalMillis, neededMillis)) + aheadMillis);
    try {
      if (table.renew(workerId, owner, last, now + leaseMillis, target)) {
        reservedUntil = target;
        renewals.increment();
        return true;
      }
      lost = true;
      lastFailure = "the lease was taken over by another instance (the row's owner or reservation"
          + " changed), so this instance stops at its reservation " + Instant.ofEpochMilli(last);
      renewalFailures.increment();
      LOG.error("Lost worker id {} in table {} (owner {}): {}", workerId, table.name(), owner,
          lastFailure);
      return false;
    } catch (SQLException | RuntimeException e) {
      lastFailure = "renewing the lease failed: " + e;
      renewalFailures.increment();
      LOG.warn("Could not renew worker id {} in table {} (owner {}); reservation ends at {}: {}",
          workerId, table.name(), owner, Instant.ofEpochMilli(last), e.toString());
      return false;
    }
  }

  /**
   * Frees the row, leaving {@code highWater} (the last issued timestamp, or more) as its
   * reservation, so that the next holder starts right after what this one issued. Does nothing if
   * the lease was lost; logs and returns if the database fails (the lease then just expires).
   */
  synchronized void release(long highWater) {
    if (lost) {
      return;
    }
    long last = reservedUntil;
    // Never above what was written; never at or below the floor, so that the row's reservation
    // still differs from any value an older holder of this row may compare against.
    long keep = Math.min(last, Math.max(highWater, floor + 1));
    try {
      if (table.release(workerId, owner, last, keep)) {
        reservedUntil = keep;
        lost = true; // nothing more may be written by this holder
        LOG.info("Released worker id {} in table {} (owner {}), high-water mark {}", workerId,
            table.name(), owner, Instant.ofEpochMilli(keep));
      } else {
        lost = true;
        LOG.warn("Worker id {} in table {} was no longer held by {} at close", workerId,
            table.name(), owner);
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("Could not release worker id {} in table {} (owner {}); its lease expires at the"
          + " latest {} ms after the last renewal: {}", workerId, table.name(), owner, leaseMillis,
          e.toString());
    }
  }
}
