package io.giftkit.mq.recheck;

/**
 * Hears the alerts a {@link DelayedRecheck} raises. Called on the scheduler's thread after the alert
 * was recorded; guarded (a listener that throws is logged and does not stop the others).
 */
@FunctionalInterface
public interface RecheckAlertListener {

  /** @param alert the alert */
  void onAlert(RecheckAlert alert);
}
