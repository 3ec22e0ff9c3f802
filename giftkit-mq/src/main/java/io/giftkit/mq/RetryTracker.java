package io.giftkit.mq;

import io.giftkit.core.Ticker;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The records being retried in place, one per partition at most (the partition's head): how often
 * each was tried, when it is due again, whether only its dead-letter publish is left. A failing
 * record's partition is paused and sought back to it by the caller; {@link #resumeDue} resumes the
 * partitions whose record is due, so the record comes back with the next poll while {@code poll}
 * keeps being called (no back-off counts against {@code max.poll.interval.ms}). With retry topics the
 * same pause holds a retry topic's record until it is due ({@link #waitUntil}) and a record whose
 * publish to the next retry topic failed ({@link #forwardFailed}).
 *
 * <p>Time from the injected {@link Ticker}. One poll loop's thread only; not thread-safe.
 */
final class RetryTracker {

  /** A record being retried. */
  static final class Retry {
    final long offset;
    int attempts;
    long retryAt;
    long firstFailedAt;
    Throwable lastError;
    boolean deadLetterOnly;
    /** Only its publish to the next retry topic is left. */
    boolean forwardOnly;

    Retry(long offset) {
      this.offset = offset;
    }
  }

  private final RetryPolicy policy;
  private final Ticker ticker;
  private final Map<TopicPartition, Retry> retries = new HashMap<>();

  RetryTracker(RetryPolicy policy, Ticker ticker) {
    this.policy = policy;
    this.ticker = ticker;
  }

  /** @return whether a record of {@code tp} is being retried (its partition is handled one record at a time) */
  boolean retrying(TopicPartition tp) {
    return retries.containsKey(tp);
  }

  /**
   * @return the retry of the record at {@code offset}, or null; a retry of another offset (the partition
   *     was sought elsewhere, e.g. reassigned) is dropped
   */
  Retry current(TopicPartition tp, long offset) {
    Retry r = retries.get(tp);
    if (r != null && r.offset != offset) {
      retries.remove(tp);
      return null;
    }
    return r;
  }

  /** @return a new retry of the record at {@code offset}, replacing any of {@code tp} */
  Retry start(TopicPartition tp, long offset) {
    Retry r = new Retry(offset);
    retries.put(tp, r);
    return r;
  }

  /**
   * An attempt of {@code r}'s record failed.
   *
   * @return nanoseconds until it is due again, or -1: dead-letter it now
   */
  long failed(Retry r, Throwable error) {
    long now = ticker.read();
    if (r.attempts++ == 0) {
      r.firstFailedAt = now;
    }
    r.lastError = error;
    long delay = policy.nextDelayNanos(error, r.attempts, now - r.firstFailedAt);
    if (delay >= 0) {
      r.retryAt = now + delay;
    }
    return delay;
  }

  /** The dead-letter publish of {@code r}'s record failed: only the publish is retried, after a back-off. */
  void deadLetterFailed(Retry r, Throwable error, int attempts) {
    r.deadLetterOnly = true;
    r.lastError = error;
    r.attempts = attempts;
    r.retryAt = ticker.read() + policy.backoff(Math.max(1, attempts));
  }

  /**
   * The record at {@code offset} of {@code tp} (on a retry topic) is not due before the ticker reads
   * {@code dueAt}: not an attempt, only a wait.
   */
  void waitUntil(TopicPartition tp, long offset, long dueAt) {
    Retry r = current(tp, offset);
    if (r == null) {
      r = start(tp, offset);
    }
    r.retryAt = dueAt;
  }

  /**
   * The publish of {@code r}'s record to its next retry topic failed: only the publish is retried,
   * after a back-off.
   */
  void forwardFailed(Retry r, Throwable error, int attempts) {
    r.forwardOnly = true;
    r.lastError = error;
    r.attempts = attempts;
    r.retryAt = ticker.read() + policy.backoff(Math.max(1, attempts));
  }

  /** The partition's head record is done (handled or dead-lettered). */
  void done(TopicPartition tp) {
    retries.remove(tp);
  }

  /** Resumes the paused partitions whose record is due. */
  void resumeDue(Consumer<?, ?> consumer) {
    if (retries.isEmpty()) {
      return;
    }
    long now = ticker.read();
    Set<TopicPartition> due = new HashSet<>();
    for (Map.Entry<TopicPartition, Retry> e : retries.entrySet()) {
      if (now - e.getValue().retryAt >= 0) {
        due.add(e.getKey());
      }
    }
    due.retainAll(consumer.paused());
    if (!due.isEmpty()) {
      consumer.resume(due);
    }
  }

  /** The partitions were revoked or lost: their next owner starts from the committed offset. */
  void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(retries::remove);
  }
}
