package io.giftkit.mq.recheck;

/**
 * Checks a business key whose re-check came due, e.g. asks the payment and order services what
 * became of an order that timed out. Runs on the scheduler's thread; it should not block for longer
 * than the scheduler's lease.
 */
@FunctionalInterface
public interface RecheckHandler {

  /**
   * @param key the business key the check was scheduled for
   * @param attempt this check's attempt, from 1
   * @return what became of it; {@code null} counts as a failure
   * @throws Exception counts as {@link RecheckResult#retryLater(String) retry later}, with the
   *     exception as the reason, until the attempts run out
   */
  RecheckResult check(String key, int attempt) throws Exception;
}
