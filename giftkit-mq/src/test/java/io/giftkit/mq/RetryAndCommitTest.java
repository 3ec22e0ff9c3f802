package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.core.FakeTicker;
import io.giftkit.core.Listeners;
import java.nio.charset.StandardCharsets;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The retry and commit logic on its own, fast: kafka-clients' {@link MockConsumer} and
 * {@link MockProducer} stand in for the client (not for the broker: the behaviour on a real broker is
 * proven by the integration tests), time is a {@link FakeTicker}; the transactional form's run uses a
 * real MariaDB.
 */
class RetryAndCommitTest {

  @org.junit.jupiter.api.extension.RegisterExtension
  static final io.giftkit.testing.MariaDbExtension MARIADB = new io.giftkit.testing.MariaDbExtension();
  private static com.zaxxer.hikari.HikariDataSource db;

  @org.junit.jupiter.api.BeforeAll
  static void database() throws java.sql.SQLException {
    db = TestPools.pool(MARIADB, 2);
    GiftkitConsumerTest.createTables(db);
  }

  @org.junit.jupiter.api.AfterAll
  static void closeDatabase() {
    db.close();
  }

  private static final TopicPartition TP = new TopicPartition("gifts", 0);
  private static final TopicPartition TP1 = new TopicPartition("gifts", 1);
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final FakeTicker ticker = new FakeTicker(1_000_000_000L);
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
  private final ConsumerCounters counters = new ConsumerCounters();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private static RetryPolicy policy() {
    // 3 attempts, 200 ms doubling up to 10 s; transient failures for up to 30 s
    return new RetryPolicy(new FailureClassifier(List.of(), List.of()), 3, 200 * MS, 10_000 * MS, 30_000 * MS);
  }

  private void assign(TopicPartition... tps) {
    consumer.assign(List.of(tps));
    Map<TopicPartition, Long> beginning = new java.util.HashMap<>();
    for (TopicPartition tp : tps) {
      beginning.put(tp, 0L);
    }
    consumer.updateBeginningOffsets(beginning);
  }

  private static ConsumerRecord<byte[], byte[]> raw(TopicPartition tp, long offset, String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, 1_700_000_000_000L, TimestampType.CREATE_TIME,
        k.length, 1, k, "1".getBytes(StandardCharsets.UTF_8), new RecordHeaders(), Optional.empty());
  }

  // ---- RetryTracker: due times

  @Test
  void aFailedRecordsPartitionIsResumedExactlyWhenItsBackOffHasPassed() {
    assign(TP);
    RetryTracker retries = new RetryTracker(policy(), ticker);
    RetryTracker.Retry r = retries.start(TP, 5);
    consumer.pause(List.of(TP));

    assertThat(retries.failed(r, new IllegalStateException("1st"))).isEqualTo(200 * MS);
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).containsExactly(TP);
    ticker.advance(Duration.ofMillis(199));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("1 ms early").containsExactly(TP);
    ticker.advance(Duration.ofMillis(1));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("due").isEmpty();

    consumer.pause(List.of(TP));
    assertThat(retries.failed(r, new IllegalStateException("2nd"))).as("doubled").isEqualTo(400 * MS);
    ticker.advance(Duration.ofMillis(399));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).containsExactly(TP);
    ticker.advance(Duration.ofMillis(1));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).isEmpty();

    assertThat(retries.failed(r, new IllegalStateException("3rd"))).as("attempts used up: dead-letter").isEqualTo(-1);
  }

  @Test
  void aTransientFailureIsRetriedWithJitteredBackOffUntilItsBudgetIsUsedUpNotItsAttempts() {
    RetryTracker retries = new RetryTracker(policy(), ticker);
    RetryTracker.Retry r = retries.start(TP, 0);
    Exception down = new SQLTransientConnectionException("read_only during a switchover");
    long elapsed = 0;
    int attempts = 0;
    while (true) {
      long delay = retries.failed(r, down);
      attempts++;
      if (delay < 0) {
        break;
      }
      long full = Math.min(200 * MS << Math.min(attempts - 1, 20), 10_000 * MS);
      assertThat(delay).as("attempt %d: jitter in [1/2, 1] of the back-off, or what is left", attempts)
          .isBetween(Math.min(full / 2, 30_000 * MS - elapsed), full);
      ticker.advanceNanos(delay);
      elapsed += delay;
    }
    assertThat(attempts).as("more than the 3 attempts other failures get").isGreaterThan(3);
    assertThat(elapsed).as("dead-lettered once the 30 s budget is used up").isEqualTo(30_000 * MS);
  }

  @Test
  void aRetryOfAnotherOffsetIsDroppedAndRevokedPartitionsForgetTheirRetries() {
    RetryTracker retries = new RetryTracker(policy(), ticker);
    retries.start(TP, 5);
    retries.start(TP1, 7);
    assertThat(retries.current(TP, 6)).as("the partition was sought elsewhere").isNull();
    assertThat(retries.retrying(TP)).isFalse();
    retries.forget(List.of(TP1));
    assertThat(retries.retrying(TP1)).isFalse();
  }

  // ---- CommitTracker: revocation and loss

  @Test
  void lostPartitionsAreDroppedWithoutACommitWhileRevokedOnesAreCommitted() {
    assign(TP, TP1);
    CommitTracker commits = new CommitTracker("t", consumer, counters.membershipLosses);
    commits.done(TP, 10);
    commits.done(TP1, 7);

    commits.lost(List.of(TP), null);
    assertThat(counters.membershipLosses.sum()).isEqualTo(1);
    assertThat(commits.pending()).containsOnlyKeys(TP1);
    commits.revoked(List.of(TP1));
    commits.commitSync(null);
    assertThat(consumer.committed(Set.of(TP, TP1))).as("TP lost: never committed; TP1 revoked: committed")
        .containsOnly(Map.entry(TP1, new OffsetAndMetadata(7)));
    assertThat(commits.pending()).isEmpty();
  }

  @Test
  void syncCommitsAfterAPollCommitBeforeReturningAndAsyncOnesKeepTheOffsetsPending() {
    assign(TP, TP1);
    CommitTracker sync = new CommitTracker("t", consumer, counters.membershipLosses, true);
    sync.done(TP, 10);
    sync.commitAfterPoll();
    assertThat(consumer.committed(Set.of(TP))).as("committed before commitAfterPoll returned")
        .containsOnly(Map.entry(TP, new OffsetAndMetadata(10)));
    assertThat(sync.pending()).isEmpty();

    CommitTracker async = new CommitTracker("t", consumer, counters.membershipLosses, false);
    async.done(TP1, 4);
    async.commitAfterPoll();
    assertThat(async.pending()).as("kept until a synchronous commit (revocation, close)")
        .containsOnly(Map.entry(TP1, new OffsetAndMetadata(4)));
  }

  @Test
  void aRevocationWhoseCommitFailsBecauseTheMembershipWentCountsAsALossAndDoesNotThrow() {
    MockConsumer<byte[], byte[]> evicted = new MockConsumer<>("earliest") {
      @Override
      public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        throw new CommitFailedException("not part of an active group");
      }
    };
    evicted.assign(List.of(TP));
    CommitTracker commits = new CommitTracker("t", evicted, counters.membershipLosses);
    commits.done(TP, 3);
    commits.revoked(List.of(TP));
    assertThat(counters.membershipLosses.sum()).isEqualTo(1);
    assertThat(commits.pending()).as("dropped: the next owner handles them again").isEmpty();
  }

  // ---- RecordProcessor: commits only what is done; dead letters only after the acknowledgement

  private RecordProcessor<String, String> processor(Dispatch<String, String> dispatch, MockProducer<byte[], byte[]> p,
      RetryTracker retries, CommitTracker commits) {
    return processor(dispatch, p, retries, commits, false);
  }

  private RecordProcessor<String, String> processor(Dispatch<String, String> dispatch, MockProducer<byte[], byte[]> p,
      RetryTracker retries, CommitTracker commits, boolean batch) {
    ConsumerSettings<String, String> settings = new ConsumerSettings<>("unit", List.of(TP.topic()), Map.of(),
        new StringDeserializer(), new StringDeserializer(), dispatch, batch, 1, policy(), 60_000 * MS, 0,
        SiteFilter.all(), new LagMonitor.Thresholds(Long.MAX_VALUE, Long.MAX_VALUE, 0),
        Listeners.create("unit lag"), ticker, null, false);
    HandlerInvoker<String, String> invoker = new HandlerInvoker<>("unit-handler", dispatch, 60_000 * MS, ticker,
        counters.timeouts);
    closeables.add(invoker);
    LagMonitor lag = new LagMonitor("unit", settings.lagThresholds(), settings.lagListeners(), counters.lagAlerts,
        new java.util.concurrent.ConcurrentHashMap<>(), ticker);
    DeadLetterPublisher dlt = new DeadLetterPublisher("unit", p, ".DLT", Duration.ofSeconds(1), 1024);
    return new RecordProcessor<>(settings, consumer, invoker, retries, commits, lag, dlt, counters, () -> true);
  }

  @Test
  void aDeadLetterIsCommittedPastOnlyAfterItsAcknowledgementAndAFailedPublishIsRetriedAlone() throws Exception {
    assign(TP);
    AtomicInteger calls = new AtomicInteger();
    Dispatch<String, String> dispatch = records -> {
      calls.incrementAndGet();
      if (records.get(0).key().equals("bad")) {
        throw new IllegalArgumentException("not a gift event"); // non-retryable: straight to the dead-letter topic
      }
      return 0;
    };
    MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    RetryTracker retries = new RetryTracker(policy(), ticker);
    CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);
    RecordProcessor<String, String> processor = processor(dispatch, producer, retries, commits);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(raw(TP, 0, "a"), raw(TP, 1, "bad"), raw(TP, 2, "c"));

    // the broker does not acknowledge the dead letter
    CompletableFuture<Void> nack = CompletableFuture.runAsync(() -> {
      await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);
      producer.errorNext(new TimeoutException("the dead-letter topic's leader is gone"));
    });
    processor.process(TP, polled, 0, ticker.read() + 60_000 * MS);
    nack.get(10, TimeUnit.SECONDS);
    assertThat(commits.pending()).as("past 'a' only, not past the unacknowledged 'bad'")
        .containsOnly(Map.entry(TP, new OffsetAndMetadata(1)));
    assertThat(consumer.paused()).containsExactly(TP);
    assertThat(consumer.position(TP)).as("sought back to 'bad'").isEqualTo(1);
    assertThat(counters.deadLetterFailures.sum()).isEqualTo(1);
    assertThat(counters.deadLettered.sum()).isZero();
    assertThat(calls.get()).isEqualTo(2);

    // the publish, and only the publish, is tried again once due (the handler is not called again)
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("not due yet").containsExactly(TP);
    ticker.advance(Duration.ofMillis(200));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).isEmpty();
    CompletableFuture<Void> ack = CompletableFuture.runAsync(() -> {
      await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 2);
      producer.completeNext();
    });
    processor.process(TP, polled.subList(1, 3), 0, ticker.read() + 60_000 * MS);
    ack.get(10, TimeUnit.SECONDS);
    assertThat(commits.pending()).as("past 'bad' and 'c' once acknowledged")
        .containsOnly(Map.entry(TP, new OffsetAndMetadata(3)));
    assertThat(counters.deadLettered.sum()).isEqualTo(1);
    assertThat(calls.get()).as("'bad' was not handled again, 'c' was handled").isEqualTo(3);
    ProducerRecord<byte[], byte[]> dead = producer.history().get(1);
    assertThat(dead.topic()).isEqualTo("gifts.DLT");
    assertThat(new String(dead.headers().lastHeader(GiftkitConsumer.DLT_ATTEMPTS).value(), StandardCharsets.UTF_8))
        .isEqualTo("1");
  }

  @Test
  void aBatchHandlerGetsTheWholePollInOneCallAndAFailedOneLeavesEveryPartitionUndone() {
    TopicPartition tp2 = new TopicPartition("gifts", 2);
    assign(TP, TP1, tp2);
    List<List<String>> calls = new ArrayList<>();
    Dispatch<String, String> dispatch = records -> {
      calls.add(records.stream().map(r -> r.partition() + ":" + r.key()).toList());
      if (records.stream().anyMatch(r -> r.key().equals("bad"))) {
        throw new IllegalStateException("one bad record fails the whole call");
      }
      return 0;
    };
    CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);
    RecordProcessor<String, String> processor = processor(dispatch, new MockProducer<>(),
        new RetryTracker(policy(), ticker), commits, true);
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> poll = new java.util.LinkedHashMap<>();
    poll.put(TP, List.of(raw(TP, 0, "a"), raw(TP, 1, "b")));
    poll.put(TP1, List.of(raw(TP1, 0, "c")));
    poll.put(tp2, List.of(raw(tp2, 0, "d"), raw(tp2, 1, "e")));

    Map<TopicPartition, Integer> handled = processor.processTogether(
        new org.apache.kafka.clients.consumer.ConsumerRecords<>(poll, Map.of()));

    assertThat(calls).as("one call, every partition's records in offset order")
        .containsExactly(List.of("0:a", "0:b", "1:c", "2:d", "2:e"));
    assertThat(handled).containsOnly(Map.entry(TP, 2), Map.entry(TP1, 1), Map.entry(tp2, 2));
    assertThat(commits.pending()).containsOnly(Map.entry(TP, new OffsetAndMetadata(2)),
        Map.entry(TP1, new OffsetAndMetadata(1)), Map.entry(tp2, new OffsetAndMetadata(2)));
    assertThat(counters.handled.sum()).isEqualTo(5);

    // a failing call marks nothing done: each partition is then handled on its own
    calls.clear();
    poll.put(TP, List.of(raw(TP, 2, "f")));
    poll.put(TP1, List.of(raw(TP1, 1, "bad")));
    poll.put(tp2, List.of(raw(tp2, 2, "g")));
    handled = processor.processTogether(new org.apache.kafka.clients.consumer.ConsumerRecords<>(poll, Map.of()));
    assertThat(handled).isEmpty();
    assertThat(calls).containsExactly(List.of("0:f", "1:bad", "2:g"));
    assertThat(counters.batchFailures.sum()).isEqualTo(1);
    assertThat(commits.pending()).as("unchanged").containsOnly(Map.entry(TP, new OffsetAndMetadata(2)),
        Map.entry(TP1, new OffsetAndMetadata(1)), Map.entry(tp2, new OffsetAndMetadata(2)));
    processor.process(TP, poll.get(TP), 0, ticker.read() + 60_000 * MS);
    assertThat(commits.pending()).containsEntry(TP, new OffsetAndMetadata(3));

    // one partition in the poll: left to process(), so a failing batch is not handed over twice
    calls.clear();
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> single = Map.of(TP1, List.of(raw(TP1, 1, "bad")));
    assertThat(processor.processTogether(new org.apache.kafka.clients.consumer.ConsumerRecords<>(single, Map.of())))
        .isEmpty();
    assertThat(calls).isEmpty();
  }

  @Test
  void aTransactionalRunTakesOneConnectionCommitsEachRecordOnItsOwnAndStopsAtTheFirstFailure() throws Exception {
    assign(TP);
    String group = "run-" + System.nanoTime();
    AtomicInteger connections = new AtomicInteger();
    javax.sql.DataSource counting = new DelegatingDataSource(db) {
      @Override
      public java.sql.Connection getConnection() throws java.sql.SQLException {
        connections.incrementAndGet();
        return super.getConnection();
      }
    };
    AtomicInteger failuresLeft = new AtomicInteger(1);
    List<String> handledKeys = new java.util.concurrent.CopyOnWriteArrayList<>();
    Dispatch<String, String> dispatch = HandlerForms.transactional(group, counting, GiftkitConsumerTest.STORE,
        ConsumerRecord::key, (records, c) -> {
          ConsumerRecord<String, String> r = records.get(0);
          handledKeys.add(r.key());
          try (java.sql.PreparedStatement ps = c.prepareStatement(
              "INSERT INTO ledger (topic, order_id, amount) VALUES (?, ?, 1)")) {
            ps.setString(1, group);
            ps.setString(2, r.key());
            ps.executeUpdate();
          }
          if (r.key().equals("c") && failuresLeft.getAndDecrement() > 0) {
            throw new java.sql.SQLTransientException("deadlock found when trying to get lock");
          }
        });
    CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);
    RetryTracker retries = new RetryTracker(policy(), ticker);
    RecordProcessor<String, String> processor = processor(dispatch, new MockProducer<>(), retries, commits);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(raw(TP, 0, "a"), raw(TP, 1, "b"), raw(TP, 2, "a"),
        raw(TP, 3, "c"), raw(TP, 4, "d"));

    processor.process(TP, polled, 0, ticker.read() + 60_000 * MS);

    assertThat(connections.get()).as("one connection for the whole run").isEqualTo(1);
    assertThat(handledKeys).as("the repeated 'a' was a duplicate; the run stopped at 'c'")
        .containsExactly("a", "b", "c");
    assertThat(GiftkitConsumerTest.ledger(db, group, "COUNT(*)")).as("a and b committed, c rolled back")
        .isEqualTo(2);
    assertThat(counters.handled.sum()).isEqualTo(2);
    assertThat(counters.duplicates.sum()).isEqualTo(1);
    assertThat(commits.pending()).containsOnly(Map.entry(TP, new OffsetAndMetadata(3)));
    assertThat(consumer.paused()).containsExactly(TP);
    assertThat(consumer.position(TP)).as("sought back to 'c'").isEqualTo(3);

    ticker.advance(Duration.ofSeconds(1));
    retries.resumeDue(consumer);
    processor.process(TP, polled.subList(3, 5), 0, ticker.read() + 60_000 * MS);
    assertThat(GiftkitConsumerTest.ledger(db, group, "COUNT(*)")).isEqualTo(4);
    assertThat(commits.pending()).containsOnly(Map.entry(TP, new OffsetAndMetadata(5)));
    assertThat(counters.handled.sum()).isEqualTo(4);
  }

  @Test
  void aRecordOfARunPastMaxProcessingTimeIsInterruptedAndTheRecordsBehindItWait() {
    assign(TP);
    List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
    Dispatch<String, String> dispatch = records -> {
      String key = records.get(0).key();
      started.add(key);
      if (key.equals("hangs")) {
        ticker.advance(Duration.ofSeconds(61)); // past maxProcessingTime (60 s)
        never.await(); // until interrupted
      }
      return 0;
    };
    CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);
    RecordProcessor<String, String> processor = processor(dispatch, new MockProducer<>(),
        new RetryTracker(policy(), ticker), commits);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(raw(TP, 0, "a"), raw(TP, 1, "hangs"), raw(TP, 2, "b"));

    processor.process(TP, polled, 0, ticker.read() + 3_600_000 * MS);

    assertThat(started).containsExactly("a", "hangs");
    assertThat(counters.timeouts.sum()).isEqualTo(1);
    assertThat(counters.retried.sum()).isEqualTo(1);
    assertThat(commits.pending()).containsOnly(Map.entry(TP, new OffsetAndMetadata(1)));
    assertThat(consumer.position(TP)).isEqualTo(1);
    assertThat(consumer.paused()).containsExactly(TP);
  }

  @Test
  void aPollBatchIsCutWhenItsBudgetIsSpentAndTheRestIsSoughtBackUncommitted() {
    assign(TP);
    Dispatch<String, String> slow = records -> {
      ticker.advance(Duration.ofSeconds(1)); // each record takes 1 s
      return 0;
    };
    MockProducer<byte[], byte[]> producer = new MockProducer<>();
    CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);
    RecordProcessor<String, String> processor = processor(slow, producer, new RetryTracker(policy(), ticker), commits);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(raw(TP, 0, "a"), raw(TP, 1, "b"), raw(TP, 2, "c"),
        raw(TP, 3, "d"));

    processor.process(TP, polled, 0, ticker.read() + 1_500 * MS); // room for a second call to start, not a third

    assertThat(counters.handled.sum()).isEqualTo(2);
    assertThat(counters.budgetCuts.sum()).isEqualTo(1);
    assertThat(commits.pending()).containsOnly(Map.entry(TP, new OffsetAndMetadata(2)));
    assertThat(consumer.position(TP)).as("the rest is polled again").isEqualTo(2);
    assertThat(consumer.paused()).isEmpty();
  }
}
