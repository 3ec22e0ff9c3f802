package io.giftkit.mq.recheck;

import io.giftkit.core.Checks;

/**
 * What a {@link RecheckHandler} found: resolved (done, forget the check), retry later (ask again
 * after the retry delay, until the attempts run out, then alert), or alert now (a reconciliation
 * problem a person must look at).
 */
public final class RecheckResult {

  /** The outcome. */
  public enum Outcome {
    /** Settled either way; the check is removed. */
    RESOLVED,
    /** Not settled yet; check again after the retry delay. */
    RETRY_LATER,
    /** Needs a person; recorded and sent to the alert listeners. */
    ALERT
  }

  private static final RecheckResult RESOLVED = new RecheckResult(Outcome.RESOLVED, "resolved");

  private final Outcome outcome;
  private final String reason;

  private RecheckResult(Outcome outcome, String reason) {
    this.outcome = outcome;
    this.reason = reason;
  }

  /** @return the check is settled */
  public static RecheckResult resolved() {
    return RESOLVED;
  }

  /**
   * @param reason why it is not settled yet (kept with the check, shown in an eventual alert); not blank
   * @return check again later
   */
  public static RecheckResult retryLater(String reason) {
    return new RecheckResult(Outcome.RETRY_LATER, Checks.requireNonBlank("reason", reason));
  }

  /**
   * @param reason what is wrong (e.g. "paid at the payment service, no order recorded"); not blank
   * @return raise an alert now
   */
  public static RecheckResult alert(String reason) {
    return new RecheckResult(Outcome.ALERT, Checks.requireNonBlank("reason", reason));
  }

  /** @return the outcome */
  public Outcome outcome() {
    return outcome;
  }

  /** @return the reason */
  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return outcome + "(" + reason + ")";
  }
}
