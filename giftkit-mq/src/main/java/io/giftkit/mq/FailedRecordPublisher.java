package io.giftkit.mq;

import io.giftkit.mq.RetryTracker.Retry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a failed record where its fate sends it — the next retry topic ({@link RetryTopicRouter})
 * or the dead-letter topic ({@link DeadLetterPublisher}) — waits for the acknowledgement and keeps the
 * books: acknowledged, the partition's retry is over and the caller marks the record done; not
 * acknowledged, the {@link RetryTracker} holds the record for a publish-only retry after a back-off
 * (its partition paused by the caller, nothing committed past it) and the failure is counted and
 * logged. One poll loop's thread only; blocks for up to the dead-letter timeout plus 1 s.
 */
final class FailedRecordPublisher {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final String name;
  private final DeadLetterPublisher deadLetters;
  private final RetryTopicRouter router; // null without retry topics
  private final RetryTracker retries;
  private final ConsumerCounters counters;

  FailedRecordPublisher(String name, DeadLetterPublisher deadLetters, RetryTopicRouter router, RetryTracker retries,
      ConsumerCounters counters) {
    this.name = name;
    this.deadLetters = deadLetters;
    this.router = router;
    this.retries = retries;
    this.counters = counters;
  }

  /**
   * Publishes to the next retry topic; true once acknowledged (the record is done), false (its
   * partition waits, the publish alone is retried later) if not.
   *
   * @param attempts attempts failed so far, this one included
   */
  boolean forward(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts,
      Retry retry) {
    String next = router.nextTopic(raw.topic());
    try {
      deadLetters.send(router.next(raw, error, attempts));
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      counters.retryTopicFailures.increment();
      retries.forwardFailed(retry, error, attempts);
      LOG.warn("GiftKit consumer '{}': publishing {}-{}@{} to retry topic {} failed ({}); not committing past it,"
          + " will retry (does {} exist? RetryTopics.createTopics creates it)", name, raw.topic(), raw.partition(),
          raw.offset(), next, e.toString(), next);
      return false;
    }
    counters.retryTopicPublishes.increment();
    retries.done(tp);
    LOG.debug("GiftKit consumer '{}': {}-{}@{} failed (attempt {}, {}); moved to {}", name, raw.topic(),
        raw.partition(), raw.offset(), attempts, error.toString(), next);
    return true;
  }

  /** Publishes to the dead-letter topic; true once acknowledged, false (retry the publish later) if not. */
  boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw, Throwable error, int attempts,
      Retry retry) {
    try {
      deadLetters.publish(raw, error, attempts);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      counters.deadLetterFailures.increment();
      retries.deadLetterFailed(retry, error, attempts);
      LOG.warn("GiftKit consumer '{}': publishing {}-{}@{} to {} failed ({}); not committing past it, will retry",
          name, raw.topic(), raw.partition(), raw.offset(), deadLetters.topicOf(raw), e.toString());
      return false;
    }
    counters.deadLettered.increment();
    retries.done(tp);
    LOG.warn("GiftKit consumer '{}': {}-{}@{} dead-lettered to {} after {} attempt(s): {}", name, raw.topic(),
        raw.partition(), raw.offset(), deadLetters.topicOf(raw), attempts, error.toString());
    return true;
  }
}
