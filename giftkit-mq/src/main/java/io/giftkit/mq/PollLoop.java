package io.giftkit.mq;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka consumer and the thread that polls it: resume partitions whose retry is due, poll, hand
 * each partition's records to the {@link RecordProcessor} within the poll's budget (the rest is sought
 * back and polled again, so the next poll comes within {@code max.poll.interval.ms}), check lag, commit
 * asynchronously; on revocation commit synchronously, on loss drop without committing
 * ({@link CommitTracker}); on close commit and close the consumer. How it ended (normally, or the
 * {@link Throwable} it died of) goes to its {@link Owner}, which may restart it.
 *
 * <p>Its parts are its own, used on its thread only: {@link CommitTracker}, {@link RetryTracker},
 * {@link LagMonitor}, {@link HandlerInvoker}, {@link RecordProcessor}; the {@link DeadLetterPublisher}
 * and the counters are shared with the consumer's other loops.
 */
final class PollLoop<K, V> {

  /** Hears about the loop's life. */
  interface Owner {
    /** @return false once the consumer closes */
    boolean running();

    /** @return a failure to die of at the next poll (a test hook), or null */
    RuntimeException takeInjectedFailure();

    /** A restarted loop has polled. */
    void recovered();

    /** The loop ended: {@code died} is null when it stopped normally. */
    void exited(PollLoop<?, ?> loop, Throwable died);
  }

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  final Consumer<byte[], byte[]> consumer;
  final Thread thread;
  final int slot;
  /** Restarts of this slot in a row before this loop. */
  final int inARow;
  final long startedNanos;
  /** A restart that has not polled yet. */
  volatile boolean recovering;

  private final ConsumerSettings<K, V> s;
  private final Owner owner;
  private final CommitTracker commits;
  private final RetryTracker retries;
  private final LagMonitor lag;
  private final HandlerInvoker<K, V> invoker;
  private final RecordProcessor<K, V> processor;
  private final LongAdder budgetCuts;

  PollLoop(ConsumerSettings<K, V> settings, Consumer<byte[], byte[]> consumer, String threadName, int slot,
      int inARow, Owner owner, DeadLetterPublisher deadLetters, ConsumerCounters counters,
      Map<TopicPartition, PartitionLag> lagView) {
    this.s = settings;
    this.consumer = consumer;
    this.slot = slot;
    this.inARow = inARow;
    this.owner = owner;
    this.startedNanos = settings.ticker().read();
    this.budgetCuts = counters.budgetCuts;
    this.commits = new CommitTracker(settings.name(), consumer, counters.membershipLosses, settings.syncCommits());
    this.retries = new RetryTracker(settings.retryPolicy(), settings.ticker());
    this.lag = new LagMonitor(settings.name(), settings.lagThresholds(), settings.lagListeners(), counters.lagAlerts,
        lagView, settings.ticker());
    this.invoker = new HandlerInvoker<>(threadName.replace("giftkit-consumer-", "giftkit-handler-"),
        settings.dispatch(), settings.maxProcessingNanos(), settings.ticker(), counters.timeouts);
    this.processor = new RecordProcessor<>(settings, consumer, invoker, retries, commits, lag, deadLetters, counters,
        owner::running);
    this.thread = new Thread(this::run, threadName);
  }

  private void run() {
    Throwable died = null;
    try {
      if (s.retryTopics() != null && slot == 0 && inARow == 0) {
        s.retryTopics().checkTopicsExist(consumer, s.name());
      }
      consumer.subscribe(s.topics(), new Rebalance()); // with retry topics, those too
      while (owner.running()) {
        if (!pollOnce()) {
          break;
        }
      }
      finalCommit();
    } catch (Throwable t) {
      died = t;
      if (t instanceof VirtualMachineError) {
        throw (VirtualMachineError) t;
      }
    } finally {
      invoker.close();
      try {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
      } catch (RuntimeException e) {
        LOG.warn("GiftKit consumer '{}': closing the Kafka consumer failed", s.name(), e);
      }
      owner.exited(this, died);
    }
  }

  /** @return false when woken up to close */
  private boolean pollOnce() {
    retries.resumeDue(consumer);
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = consumer.poll(Duration.ofMillis(100));
    } catch (WakeupException e) {
      return false;
    }
    RuntimeException injected = owner.takeInjectedFailure();
    if (injected != null) {
      throw injected;
    }
    if (recovering) {
      recovering = false;
      owner.recovered();
    }
    lag.observePoll(consumer, records);
    long pollDeadline = s.ticker().read() + s.pollBudgetNanos();
    // Batch forms: the whole poll in one handler call (one transaction), as a hand-written loop would.
    Map<TopicPartition, Integer> handled = s.batch() && !records.isEmpty() ? processor.processTogether(records)
        : Map.of();
    boolean first = handled.isEmpty(); // every poll makes progress, however small the budget
    for (TopicPartition tp : records.partitions()) {
      if (!owner.running()) {
        break;
      }
      List<ConsumerRecord<byte[], byte[]>> raws = records.records(tp);
      int from = handled.getOrDefault(tp, 0);
      if (from >= raws.size()) {
        continue;
      }
      if (!first && s.ticker().read() - pollDeadline >= 0) {
        consumer.seek(tp, raws.get(from).offset()); // out of time for this poll: polled again next time
        budgetCuts.increment();
        continue;
      }
      processor.process(tp, raws, from, pollDeadline);
      first = false;
    }
    lag.check();
    try {
      commits.commitAfterPoll();
    } catch (WakeupException closing) {
      return false; // close() woke the commit: the final commit follows
    }
    return true;
  }

  private void finalCommit() {
    try {
      try {
        commits.commitSync(null);
      } catch (WakeupException pendingWakeup) {
        commits.commitSync(null); // close() woke the consumer after its last poll: the wake-up is spent, commit again
      }
    } catch (CommitFailedException | RebalanceInProgressException | FencedInstanceIdException e) {
      LOG.warn("GiftKit consumer '{}': the final commit failed ({}); the partitions' next owner handles the"
          + " uncommitted records again", s.name(), e.toString());
    }
  }

  private void forget(Collection<TopicPartition> partitions) {
    retries.forget(partitions);
    lag.forget(partitions);
  }

  /** Commits revoked partitions, drops lost ones; either way their retry and lag state goes. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commits.revoked(partitions);
      forget(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      // Not onPartitionsRevoked's default: the partitions are someone else's already, a commit would
      // fail (CommitFailedException) and kill the poll loop.
      commits.lost(partitions, null);
      forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Retry state was dropped on revocation: assigned partitions start from the committed offset.
    }
  }
}
