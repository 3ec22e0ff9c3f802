package io.giftkit.mq.recheck;

/**
 * Checks a business key whose re-check came due, e.g. asks the payment and order services what
 * became of an order that timed out. Runs on a helper thread of the scheduler, for at most the
 * scheduler's {@code checkTimeout} (below its lease): then it is interrupted and the attempt counts as
 * failed. Respond to interruption (or use I/O timeouts shorter than {@code checkTimeout}): a handler
 * that ignores it is abandoned, still running, and may overlap the check's next attempt.
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
