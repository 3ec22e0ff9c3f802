package io.giftkit.mq;

import java.util.concurrent.ThreadLocalRandom;

/**
 * When a failed record is tried again, or that it goes to the dead-letter topic now. One job;
 * immutable, thread-safe.
 *
 * <ul>
 *   <li>Non-retryable ({@link FailureClassifier}): dead-lettered after this first failure.
 *   <li>Transient: retried while the record has been failing for less than the retry budget, after
 *       {@code backoff × 2^(attempts−1)} capped at {@code maxBackoff}, with jitter (a uniform draw
 *       in [½, 1] of it) so that a fleet of consumers does not retry in step; the last attempt is
 *       placed at the end of the budget.
 *   <li>Other: retried until {@code maxAttempts} attempts, after {@code backoff × 2^(attempts−1)}
 *       capped at {@code maxBackoff}.
 * </ul>
 */
final class RetryPolicy {

  private final FailureClassifier classifier;
  private final int maxAttempts;
  private final long backoffNanos;
  private final long maxBackoffNanos;
  private final long budgetNanos;

  RetryPolicy(FailureClassifier classifier, int maxAttempts, long backoffNanos, long maxBackoffNanos,
      long budgetNanos) {
    this.classifier = classifier;
    this.maxAttempts = maxAttempts;
    this.backoffNanos = backoffNanos;
    this.maxBackoffNanos = maxBackoffNanos;
    this.budgetNanos = budgetNanos;
  }

  /**
   * @param failure what the attempt threw
   * @param attempts attempts so far, this one included (at least 1)
   * @param failingForNanos time since the record's first failure
   * @return nanoseconds to wait before the next attempt, or -1 to dead-letter it now
   */
  long nextDelayNanos(Throwable failure, int attempts, long failingForNanos) {
    switch (classifier.classify(failure)) {
      case NON_RETRYABLE:
        return -1;
      case TRANSIENT: {
        long left = budgetNanos - failingForNanos;
        if (left <= 0) {
          return -1;
        }
        long d = backoff(attempts);
        long jittered = d / 2 + (d / 2 == 0 ? 0 : ThreadLocalRandom.current().nextLong(d - d / 2 + 1));
        return Math.min(jittered, left);
      }
      default:
        return attempts >= maxAttempts ? -1 : backoff(attempts);
    }
  }

  /** @return {@code backoff × 2^(attempts−1)}, capped at the maximum back-off */
  long backoff(int attempts) {
    double nanos = backoffNanos * Math.pow(2, Math.max(0, attempts - 1));
    return (long) Math.min(nanos, maxBackoffNanos);
  }

  FailureClassifier.Kind kind(Throwable failure) {
    return classifier.classify(failure);
  }
}
