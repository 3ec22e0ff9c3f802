package io.giftkit.mq;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The offsets to commit: per partition, the offset past the last record that is done (handled, skipped
 * as a duplicate, filtered out, or acknowledged by the dead-letter topic; nothing else gets here).
 * Commits asynchronously after each poll, synchronously when partitions are revoked and on close.
 * Partitions lost with the membership (evicted, fenced, or {@code onPartitionsLost}) are dropped
 * without a commit: another member owns them already, and a commit would throw
 * {@code CommitFailedException}; their records are handled again by the next owner and deduplicated
 * by the idempotent handler forms.
 *
 * <p>One poll loop's thread only (the rebalance listener runs inside its {@code poll}); not thread-safe.
 */
final class CommitTracker {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final String name;
  private final Consumer<byte[], byte[]> consumer;
  private final LongAdder membershipLosses;
  private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();

  /** How long a synchronous commit after a poll may take before the next commit is left to cover it. */
  static final Duration SYNC_COMMIT_TIMEOUT = Duration.ofSeconds(5);

  private final boolean sync;

  CommitTracker(String name, Consumer<byte[], byte[]> consumer, LongAdder membershipLosses) {
    this(name, consumer, membershipLosses, false);
  }

  /** @param sync commit after each poll synchronously (else asynchronously) */
  CommitTracker(String name, Consumer<byte[], byte[]> consumer, LongAdder membershipLosses, boolean sync) {
    this.name = name;
    this.consumer = consumer;
    this.membershipLosses = membershipLosses;
    this.sync = sync;
  }

  /**
   * After each poll: commits what is done, synchronously or asynchronously as configured. A
   * synchronous commit that fails because the membership is gone drops the offsets (as {@link #lost});
   * one that times out or fails otherwise keeps them for the next commit.
   *
   * @throws WakeupException if the consumer is being closed
   */
  void commitAfterPoll() {
    if (!sync) {
      commitAsync();
      return;
    }
    if (pending.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>(pending);
    try {
      consumer.commitSync(toCommit, SYNC_COMMIT_TIMEOUT);
      toCommit.forEach(pending::remove); // only entries no later offset replaced meanwhile (none can: one thread)
    } catch (CommitFailedException | FencedInstanceIdException e) {
      lost(toCommit.keySet(), e);
    } catch (WakeupException e) {
      throw e;
    } catch (KafkaException e) { // a rebalance in progress, a timeout, the broker away: the next commit covers it
      LOG.warn("GiftKit consumer '{}': commit after poll failed ({}); the next commit covers it", name, e.toString());
    }
  }

  /** Everything of {@code tp} before {@code nextOffset} is done. */
  void done(TopicPartition tp, long nextOffset) {
    pending.put(tp, new OffsetAndMetadata(nextOffset));
  }

  /** @return the offsets not yet committed synchronously (for tests) */
  Map<TopicPartition, OffsetAndMetadata> pending() {
    return Map.copyOf(pending);
  }

  /** Commits what is done, asynchronously; a failure is logged and covered by the next commit. */
  void commitAsync() {
    if (pending.isEmpty()) {
      return;
    }
    consumer.commitAsync(new HashMap<>(pending), (offsets, e) -> {
      if (e != null) {
        LOG.warn("GiftKit consumer '{}': async commit failed ({}); the next commit covers it", name, e.toString());
      }
    });
  }

  /**
   * Commits what is done of {@code only} (all partitions if null) and waits.
   *
   * @throws CommitFailedException and the like if the membership is gone
   */
  void commitSync(Collection<TopicPartition> only) {
    Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : pending.entrySet()) {
      if (only == null || only.contains(e.getKey())) {
        toCommit.put(e.getKey(), e.getValue());
      }
    }
    if (!toCommit.isEmpty()) {
      consumer.commitSync(toCommit);
      toCommit.keySet().forEach(pending::remove);
    }
  }

  /**
   * The partitions are being revoked: commits them, or, if the membership went meanwhile (a commit
   * can no longer succeed), drops them as {@link #lost}.
   */
  void revoked(Collection<TopicPartition> partitions) {
    try {
      commitSync(partitions);
    } catch (CommitFailedException | RebalanceInProgressException | FencedInstanceIdException e) {
      // The membership went while the loop was busy: the records are handled again by the partitions'
      // next owner (handlers are idempotent); the consumer rejoins on its next poll.
      lost(partitions, e);
    }
  }

  /**
   * The partitions were lost with the membership: drops their offsets without committing.
   *
   * @param why what showed it, or null for {@code onPartitionsLost}
   */
  void lost(Collection<TopicPartition> partitions, RuntimeException why) {
    membershipLosses.increment();
    int dropped = 0;
    for (TopicPartition tp : partitions) {
      if (pending.remove(tp) != null) {
        dropped++;
      }
    }
    LOG.warn("GiftKit consumer '{}': lost partitions {} without committing ({}); {} partition(s) had handled"
        + " records not yet committed, to be handled again by their next owner; rejoining", name, partitions,
        why == null ? "the group membership was lost" : why.toString(), dropped);
  }
}
