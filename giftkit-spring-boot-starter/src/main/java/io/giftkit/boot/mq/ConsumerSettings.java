package io.giftkit.boot.mq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One consumer's settings under {@code giftkit.mq.consumers.<name>} (or the shared
 * {@code giftkit.mq.defaults}); unset values come from the defaults, then from the library's.
 */
public class ConsumerSettings {

  /** The consumer group; default: the consumer's name. */
  private String groupId;

  /** The topics to consume. */
  private List<String> topics = new ArrayList<>();

  /** Kafka consumers (threads) in the group sharing the partitions; 1 to 64. */
  private Integer concurrency;

  /** Tries before a record is dead-lettered; 1 to 100. */
  private Integer maxAttempts;

  /** The first retry's delay, doubling each time up to 10 s. */
  private Duration backoff;

  /**
   * Non-blocking retry topics: the delays of {@code <topic>.retry-1}, {@code .retry-2} … (a failing record
   * moves on to the next retry topic, then to the dead-letter topic, and its partition does not wait);
   * each positive, at most 1 day, 1 to 20 of them. Empty: failing records are retried in place.
   */
  private List<Duration> retryTopics = new ArrayList<>();

  /**
   * Commit each poll's offsets before the next poll (default: true, as Spring Kafka's containers do);
   * false commits asynchronously and relies on the synchronous commit at revocation and close.
   */
  private Boolean syncCommits;

  /** How long one handler call may take before it is interrupted and counts as a failure. */
  private Duration maxProcessingTime;

  /** Raise a lag alert when a partition's lag exceeds this many records for the sustained period. */
  private Long maxLag;

  /** Raise a lag alert when a partition's oldest unhandled record is older than this for the sustained period. */
  private Duration maxRecordAge;

  /** How long a partition must stay above a threshold before the alert fires. */
  private Duration sustainedFor;

  /** Extra Kafka consumer properties (e.g. max.poll.records), added to spring.kafka's. */
  private Map<String, String> properties = new LinkedHashMap<>();

  public Boolean getSyncCommits() {
    return syncCommits;
  }

  public void setSyncCommits(Boolean syncCommits) {
    this.syncCommits = syncCommits;
  }

  public String getGroupId() {
    return groupId;
  }

  public void setGroupId(String groupId) {
    this.groupId = groupId;
  }

  public List<String> getTopics() {
    return topics;
  }

  public void setTopics(List<String> topics) {
    this.topics = topics;
  }

  public Integer getConcurrency() {
    return concurrency;
  }

  public void setConcurrency(Integer concurrency) {
    this.concurrency = concurrency;
  }

  public Integer getMaxAttempts() {
    return maxAttempts;
  }

  public void setMaxAttempts(Integer maxAttempts) {
    this.maxAttempts = maxAttempts;
  }

  public Duration getBackoff() {
    return backoff;
  }

  public void setBackoff(Duration backoff) {
    this.backoff = backoff;
  }

  public List<Duration> getRetryTopics() {
    return retryTopics;
  }

  public void setRetryTopics(List<Duration> retryTopics) {
    this.retryTopics = retryTopics;
  }

  public Duration getMaxProcessingTime() {
    return maxProcessingTime;
  }

  public void setMaxProcessingTime(Duration maxProcessingTime) {
    this.maxProcessingTime = maxProcessingTime;
  }

  public Long getMaxLag() {
    return maxLag;
  }

  public void setMaxLag(Long maxLag) {
    this.maxLag = maxLag;
  }

  public Duration getMaxRecordAge() {
    return maxRecordAge;
  }

  public void setMaxRecordAge(Duration maxRecordAge) {
    this.maxRecordAge = maxRecordAge;
  }

  public Duration getSustainedFor() {
    return sustainedFor;
  }

  public void setSustainedFor(Duration sustainedFor) {
    this.sustainedFor = sustainedFor;
  }

  public Map<String, String> getProperties() {
    return properties;
  }

  public void setProperties(Map<String, String> properties) {
    this.properties = properties;
  }
}
