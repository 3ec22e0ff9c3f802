package io.giftkit.mq;

/**
 * How far a consumer is behind on one partition.
 *
 * @param topic the topic
 * @param partition the partition
 * @param lag records in the partition not yet handled (end offset − next offset to handle)
 * @param recordAgeMillis how long the oldest record not yet handled has been in Kafka (now − its
 *     timestamp); 0 when the partition is caught up
 * @param alerting whether a lag alert is raised for it (fired and not yet recovered)
 */
public record PartitionLag(String topic, int partition, long lag, long recordAgeMillis, boolean alerting) {

  /** @return {@code topic-partition} */
  public String name() {
    return topic + "-" + partition;
  }
}
