package io.giftkit.mq;

/**
 * Hears lag alerts: a partition's lag or record age stayed above its threshold for the sustained
 * period (fired once), and later fell back below both (fired once). Called on the consumer's thread;
 * guarded (a listener that throws is logged and does not disturb consumption).
 */
public interface LagListener {

  /** @param lag the partition's lag when the alert was raised */
  void onLagAlert(PartitionLag lag);

  /** @param lag the partition's lag when it recovered */
  default void onLagRecovered(PartitionLag lag) {}
}
