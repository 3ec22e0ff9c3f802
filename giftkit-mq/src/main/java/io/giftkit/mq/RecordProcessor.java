package io.giftkit.mq;

import io.giftkit.core.Ticker;
import io.giftkit.mq.RetryTracker.Retry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles one partition's records from a poll, in order: drops what the site filter rejects,
 * deserializes, hands runs of records to a batch handler, or to the handler thread in one go to be
 * handled one at a time ({@link HandlerInvoker#invokeEach}), and decides each failure's
 * fate with the {@link RetryTracker} (seek back and pause the partition until the retry is due) or the
 * {@link FailedRecordPublisher} (retry topic or dead-letter topic). Only a record that is done reaches
 * the {@link CommitTracker}: handled, a duplicate, filtered out, or acknowledged by the dead-letter (or
 * retry) topic. A failed batch is handled again
 * one record at a time, so only the failing record is retried. No handler call starts after the poll's
 * deadline: the rest of the partition is sought back and polled again.
 *
 * <p>With retry topics ({@link RetryTopicRouter}) a retryable failure is not retried in place: the
 * record is published to the next retry topic and, once acknowledged, is done; after the last retry
 * topic it goes to the dead-letter topic. A record from a retry topic that is not due yet waits, its
 * partition sought back and paused until it is (the {@link RetryTracker} resumes it).
 *
 * <p>An {@link Error} from a deserializer or handler is that record's failure; only a
 * {@link VirtualMachineError} goes through (it stops the poll loop). One poll loop's thread only.
 */
final class RecordProcessor<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final ConsumerSettings<K, V> s;
  private final Consumer<byte[], byte[]> consumer;
  private final HandlerInvoker<K, V> invoker;
  private final RetryTracker retries;
  private final CommitTracker commits;
  private final LagMonitor lag;
  private final ConsumerCounters counters;
  private final BooleanSupplier running;
  private final Ticker ticker;
  private final RetryTopicRouter router; // null: retries in place
  private final FailedRecordPublisher publisher;

  RecordProcessor(ConsumerSettings<K, V> settings, Consumer<byte[], byte[]> consumer, HandlerInvoker<K, V> invoker,
      RetryTracker retries, CommitTracker commits, LagMonitor lag, DeadLetterPublisher deadLetters,
      ConsumerCounters counters, BooleanSupplier running) {
    this.s = settings;
    this.consumer = consumer;
    this.invoker = invoker;
    this.retries = retries;
    this.commits = commits;
    this.lag = lag;
    this.counters = counters;
    this.running = running;
    this.ticker = settings.ticker();
    this.router = settings.retryTopics();
    this.publisher = new FailedRecordPublisher(settings.name(), deadLetters, router, retries, counters);
  }

  /**
   * Handles {@code raws}, one partition's records from a poll: in batches when the handler takes them,
   * else one at a time.
   *
   * @param pollDeadline the {@link Ticker} reading after which no handler call starts
   */
  void process(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> raws, int from, long pollDeadline) {
    int i = from;
    int singleUntil = s.batch() ? from : raws.size();
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    while (i < raws.size() && running.getAsBoolean()) {
      if (i > 0 && ticker.read() - pollDeadline >= 0) {
        // The whole poll batch, not one handler call, must fit in max.poll.interval.ms: stop here,
        // commit what is done, poll (keeping the membership) and take the rest from this offset.
        consumer.seek(tp, raws.get(i).offset());
        counters.budgetCuts.increment();
        return;
      }
      if (!s.batch() && !retries.retrying(tp)) {
        int next = handleRun(tp, raws, i, pollDeadline);
        if (next < 0) {
          return; // sought back (and paused, if a retry is due later)
        }
        if (next > i) {
          i = next;
          continue;
        }
        // the record at i cannot be deserialized: it is dead-lettered on its own below
      } else if (i >= singleUntil && !retries.retrying(tp)) {
        records.clear();
        int end = collectBatch(raws, i, records, null);
        if (end > i) {
          if (handleBatch(tp, records, raws.subList(i, end))) {
            i = end;
            continue;
          }
          singleUntil = end; // the batch failed: find the failing record one at a time
        }
      }
      ConsumerRecord<byte[], byte[]> raw = raws.get(i);
      if (!processOne(tp, raw)) {
        consumer.seek(tp, raw.offset());
        consumer.pause(List.of(tp));
        return;
      }
      done(tp, raw);
      i++;
    }
  }

  /**
   * Batch forms: hands the records of every partition of the poll that is not retrying to the handler
   * in one call (one transaction, for the transactional form), each partition's run as
   * {@link #collectBatch} takes it. If the call fails, nothing is marked done and each partition goes
   * through {@link #process} (its own batch, then one record at a time). With fewer than two such
   * partitions nothing is done here: {@link #process} alone hands the partition over.
   *
   * @return per partition handled here, the index in its records where the rest starts (a record that
   *     could not be deserialized, or the end); empty if nothing was handled
   */
  Map<TopicPartition, Integer> processTogether(ConsumerRecords<byte[], byte[]> polled) {
    int candidates = 0;
    for (TopicPartition tp : polled.partitions()) {
      candidates += retries.retrying(tp) ? 0 : 1;
    }
    if (candidates < 2) {
      return Map.of(); // one partition: process() hands it over as one batch, and a failed one is not tried twice
    }
    List<ConsumerRecord<K, V>> all = new ArrayList<>();
    Map<TopicPartition, Integer> ends = new LinkedHashMap<>();
    Map<TopicPartition, Integer> accepted = new HashMap<>();
    for (TopicPartition tp : polled.partitions()) {
      if (retries.retrying(tp)) {
        continue;
      }
      int before = all.size();
      int end = collectBatch(polled.records(tp), 0, all, null);
      if (end > 0) {
        ends.put(tp, end);
        accepted.put(tp, all.size() - before);
      }
    }
    if (ends.isEmpty()) {
      return Map.of();
    }
    if (!all.isEmpty()) {
      TopicPartition first = null;
      for (TopicPartition tp : ends.keySet()) {
        lag.handling(tp, polled.records(tp).get(0));
        first = first == null ? tp : first;
      }
      if (!invokeBatch(first, all, ends.keySet() + " (each partition is handed over on its own next)")) {
        return Map.of();
      }
    }
    for (Map.Entry<TopicPartition, Integer> e : ends.entrySet()) {
      List<ConsumerRecord<byte[], byte[]>> raws = polled.records(e.getKey());
      counters.filtered.add(e.getValue() - accepted.get(e.getKey()));
      done(e.getKey(), raws.get(e.getValue() - 1));
    }
    return ends;
  }

  /**
   * Collects the run of records from {@code from} that can go to the handler as one batch (the site
   * filter's accepted ones, deserialized, into {@code out}); stops before a record that cannot be
   * deserialized, which is then handled on its own (dead-lettered).
   *
   * @param at if not null, gets the index in {@code raws} of each record added to {@code out}
   * @return the end of the run
   */
  private int collectBatch(List<ConsumerRecord<byte[], byte[]>> raws, int from, List<ConsumerRecord<K, V>> out,
      List<Integer> at) {
    int end = from;
    while (end < raws.size()) {
      ConsumerRecord<byte[], byte[]> raw = raws.get(end);
      boolean accepted = accepts(raw);
      if (accepted && router != null && router.waitNanos(raw) > 0) {
        break; // not due yet: handled on its own (it waits)
      }
      if (accepted) {
        try {
          out.add(deserialize(raw));
          if (at != null) {
            at.add(end);
          }
        } catch (RuntimeException | Error poison) {
          rethrowIfFatal(poison);
          break;
        }
      }
      end++;
    }
    return end;
  }

  private boolean handleBatch(TopicPartition tp, List<ConsumerRecord<K, V>> records,
      List<ConsumerRecord<byte[], byte[]>> raws) {
    if (!records.isEmpty()) {
      lag.handling(tp, records.get(0));
      if (!invokeBatch(tp, records, tp + " (handled one at a time next)")) {
        return false;
      }
    }
    counters.filtered.add(raws.size() - records.size());
    done(tp, raws.get(raws.size() - 1));
    return true;
  }

  /**
   * One batch call; counts its records as handled or duplicates.
   *
   * @param first the partition named by a timeout's message
   * @param of what the records are, for the log line of a failure
   * @return false if the call failed (counted; the caller falls back to smaller calls)
   */
  private boolean invokeBatch(TopicPartition first, List<ConsumerRecord<K, V>> records, String of) {
    try {
      int dups = invoker.invoke(first, List.copyOf(records), lag::check);
      counters.duplicates.add(dups);
      counters.handled.add(records.size() - dups);
      return true;
    } catch (Exception | Error e) {
      rethrowIfFatal(e);
      counters.batchFailures.increment();
      LOG.debug("GiftKit consumer '{}': a batch of {} records of {} failed", s.name(), records.size(), of, e);
      return false;
    }
  }

  private void done(TopicPartition tp, ConsumerRecord<byte[], byte[]> last) {
    commits.done(tp, last.offset() + 1);
    lag.done(tp, last.offset() + 1);
  }

  /**
   * @return whether this consumer handles {@code raw}: its site passes the site filter and, on a retry
   *     topic, it was put there by this consumer group (another group's retries are not ours)
   */
  private boolean accepts(ConsumerRecord<byte[], byte[]> raw) {
    return s.siteFilter().accepts(SiteHeaders.text(raw.headers(), SiteHeaders.SITE))
        && (router == null || router.ours(raw));
  }

  /** @throws RuntimeException what the deserializer threw: the record is poison */
  private ConsumerRecord<K, V> deserialize(ConsumerRecord<byte[], byte[]> raw) {
    // deserializers see the original topic (a schema looked up by topic name is the original's)
    String topic = router == null ? raw.topic() : router.originalTopicOf(raw.topic());
    return new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.timestamp(),
        raw.timestampType(), raw.serializedKeySize(), raw.serializedValueSize(),
        raw.key() == null ? null : s.keyDeserializer().deserialize(topic, raw.headers(), raw.key()),
        raw.value() == null ? null : s.valueDeserializer().deserialize(topic, raw.headers(), raw.value()),
        raw.headers(), raw.leaderEpoch());
  }

  /** Handles one record; false means "not done: seek back and pause its partition". */
  private boolean processOne(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw) {
    if (!accepts(raw)) {
      counters.filtered.increment();
      return true;
    }
    Retry retry = retries.current(tp, raw.offset());
    if (retry != null && retry.deadLetterOnly) {
      return publisher.deadLetter(tp, raw, retry.lastError, retry.attempts, retry);
    }
    if (retry != null && retry.forwardOnly) {
      return publisher.forward(tp, raw, retry.lastError, retry.attempts, retry);
    }
    long wait = router == null ? 0 : router.waitNanos(raw);
    if (wait > 0) {
      retries.waitUntil(tp, raw.offset(), ticker.read() + wait); // from a retry topic, not due yet
      return false;
    }
    ConsumerRecord<K, V> record;
    try {
      record = deserialize(raw);
    } catch (RuntimeException | Error poison) {
      rethrowIfFatal(poison);
      return publisher.deadLetter(tp, raw, poison, 0, retry == null ? retries.start(tp, raw.offset()) : retry);
    }
    try {
      lag.handling(tp, record);
      int dups = invoker.invoke(tp, List.of(record), lag::check);
      (dups == 0 ? counters.handled : counters.duplicates).increment();
      retries.done(tp);
      return true;
    } catch (Exception | Error e) {
      return failed(tp, raw, retry, e);
    }
  }

  /**
   * Without idempotency or batches: hands the run of records from {@code from} to the handler thread
   * in one go ({@link HandlerInvoker#invokeEach}: one call, and one transaction, per record), marks
   * what it handled done, and gives the first failure its fate.
   *
   * @return where the partition goes on; {@code from} if the record there cannot be deserialized; -1
   *     when the partition stops for this poll (sought back: a retry, the poll's deadline, closing)
   */
  private int handleRun(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> raws, int from, long pollDeadline) {
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    int end = collectBatch(raws, from, records, at);
    if (records.isEmpty()) {
      if (end > from) {
        counters.filtered.add(end - from);
        done(tp, raws.get(end - 1));
      }
      return end;
    }
    lag.handling(tp, records.get(0));
    HandlerInvoker.RunResult r;
    try {
      r = invoker.invokeEach(tp, records, pollDeadline, running, lag::check);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      consumer.seek(tp, raws.get(from).offset()); // what the run handled is handled again (at least once)
      return -1;
    }
    counters.duplicates.add(r.duplicates());
    counters.handled.add(r.completed() - r.duplicates());
    int doneUntil = r.completed() == records.size() ? end : at.get(r.completed());
    if (doneUntil > from) {
      counters.filtered.add(doneUntil - from - r.completed());
      done(tp, raws.get(doneUntil - 1));
    }
    if (r.failure() != null) {
      ConsumerRecord<byte[], byte[]> raw = raws.get(doneUntil);
      if (!failed(tp, raw, null, r.failure())) {
        consumer.seek(tp, raw.offset());
        consumer.pause(List.of(tp));
        return -1;
      }
      done(tp, raw);
      return doneUntil + 1;
    }
    if (r.completed() < records.size()) { // out of the poll's time, or closing
      consumer.seek(tp, raws.get(doneUntil).offset());
      if (running.getAsBoolean()) {
        counters.budgetCuts.increment();
      }
      return -1;
    }
    return end;
  }

  /**
   * A handler call on {@code raw} failed: retry it in place (false: seek back and pause), move it to
   * the next retry topic, or dead-letter it (true once acknowledged).
   */
  private boolean failed(TopicPartition tp, ConsumerRecord<byte[], byte[]> raw, Retry retry, Throwable e) {
    rethrowIfFatal(e); // any other Error (AssertionError, a LinkageError …) is this record's failure
    Retry r = retry == null ? retries.start(tp, raw.offset()) : retry;
    if (router != null) { // retry topics: the next one, or the dead-letter topic; never in place
      int failedAttempts = router.priorAttempts(raw) + 1;
      if (s.retryPolicy().kind(e) != FailureClassifier.Kind.NON_RETRYABLE && router.hasNext(raw.topic())) {
        return publisher.forward(tp, raw, e, failedAttempts, r);
      }
      return publisher.deadLetter(tp, raw, e, failedAttempts, r);
    }
    long delay = retries.failed(r, e);
    if (delay < 0) {
      return publisher.deadLetter(tp, raw, e, r.attempts, r);
    }
    counters.retried.increment();
    LOG.debug("GiftKit consumer '{}': {}-{}@{} failed (attempt {}, {}); retrying in {} ms", s.name(), raw.topic(),
        raw.partition(), raw.offset(), r.attempts, s.retryPolicy().kind(e), TimeUnit.NANOSECONDS.toMillis(delay), e);
    return false;
  }

  /**
   * Lets a {@link VirtualMachineError} (out of memory, stack overflow, an internal error) through: it
   * stops the poll loop. Every other {@link Error} a deserializer or handler throws is contained as that
   * record's failure, so one poison record cannot stop the group.
   */
  static void rethrowIfFatal(Throwable t) {
    if (t instanceof VirtualMachineError) {
      throw (VirtualMachineError) t;
    }
  }
}
