package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.core.FakeTicker;
import io.giftkit.core.Listeners;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Retry-topic routing on its own, fast: kafka-clients' {@link MockConsumer} and {@link MockProducer}
 * stand in for the client (the real broker is in {@link RetryTopicsBrokerTest}), time is a
 * {@link FakeTicker} and the wall clock follows it.
 */
class RetryTopicRoutingTest {

  private static final TopicPartition MAIN = new TopicPartition("gifts", 0);
  private static final TopicPartition R1 = new TopicPartition("gifts.retry-1", 0);
  private static final TopicPartition R2 = new TopicPartition("gifts.retry-2", 0);
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long WALL = 1_800_000_000_000L;

  private final FakeTicker ticker = new FakeTicker(1_000_000_000L);
  private final long start = ticker.read();
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
  private final ConsumerCounters counters = new ConsumerCounters();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final RetryTopicRouter router = new RetryTopicRouter(
      RetryTopics.delays(Duration.ofSeconds(1), Duration.ofSeconds(10)), List.of("gifts"), "settlement", this::wall);
  private final RetryTracker retries = new RetryTracker(policy(), ticker);
  private final CommitTracker commits = new CommitTracker("unit", consumer, counters.membershipLosses);

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private long wall() {
    return WALL + (ticker.read() - start) / MS;
  }

  private static RetryPolicy policy() {
    return new RetryPolicy(new FailureClassifier(List.of(), List.of()), 3, 200 * MS, 10_000 * MS, 30_000 * MS);
  }

  private void assign(TopicPartition... tps) {
    consumer.assign(List.of(tps));
    Map<TopicPartition, Long> beginning = new HashMap<>();
    for (TopicPartition tp : tps) {
      beginning.put(tp, 0L);
    }
    consumer.updateBeginningOffsets(beginning);
  }

  private RecordProcessor<String, String> processor(Dispatch<String, String> dispatch, MockProducer<byte[], byte[]> p) {
    ConsumerSettings<String, String> settings = new ConsumerSettings<>("unit",
        List.of("gifts", "gifts.retry-1", "gifts.retry-2"), Map.of(), new StringDeserializer(),
        new StringDeserializer(),
        dispatch, false, 1, policy(), 60_000 * MS, 0, SiteFilter.all(),
        new LagMonitor.Thresholds(Long.MAX_VALUE, Long.MAX_VALUE, 0), Listeners.create("unit lag"), ticker, router,
        false);
    HandlerInvoker<String, String> invoker = new HandlerInvoker<>("unit-handler", dispatch, 60_000 * MS, ticker,
        counters.timeouts);
    closeables.add(invoker);
    LagMonitor lag = new LagMonitor("unit", settings.lagThresholds(), settings.lagListeners(), counters.lagAlerts,
        new java.util.concurrent.ConcurrentHashMap<>(), ticker);
    DeadLetterPublisher dlt = new DeadLetterPublisher("unit", p, ".DLT", Duration.ofSeconds(1), 1024, router);
    return new RecordProcessor<>(settings, consumer, invoker, retries, commits, lag, dlt, counters, () -> true);
  }

  private static ConsumerRecord<byte[], byte[]> raw(TopicPartition tp, long offset, String key, Headers headers) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, 1_700_000_000_000L, TimestampType.CREATE_TIME,
        k.length, 1, k, "1".getBytes(StandardCharsets.UTF_8), headers, Optional.empty());
  }

  private static ConsumerRecord<byte[], byte[]> main(long offset, String key) {
    RecordHeaders h = new RecordHeaders();
    h.add(SiteHeaders.SITE, "a".getBytes(StandardCharsets.UTF_8));
    h.add(SiteHeaders.ROUTE, "room-7".getBytes(StandardCharsets.UTF_8));
    return raw(MAIN, offset, key, h);
  }

  /** The record as a consumer of {@code tp} would get what the producer published. */
  private static ConsumerRecord<byte[], byte[]> consumed(ProducerRecord<byte[], byte[]> published, TopicPartition tp,
      long offset) {
    assertThat(published.topic()).isEqualTo(tp.topic());
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, published.timestamp(), TimestampType.CREATE_TIME,
        published.key().length, published.value().length, published.key(), published.value(),
        new RecordHeaders(published.headers().toArray()), Optional.empty());
  }

  private static String header(ProducerRecord<byte[], byte[]> r, String name) {
    return RetryTopics.text(r.headers(), name);
  }

  private static long count(ProducerRecord<byte[], byte[]> r, String name) {
    return StreamSupport.stream(r.headers().spliterator(), false).filter(h -> h.key().equals(name)).count();
  }

  private static MockProducer<byte[], byte[]> producer(boolean autoComplete) {
    return new MockProducer<>(autoComplete, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Test
  void aFailingRecordGoesMainToRetry1ToRetry2ToTheOriginalTopicsDltEachWhenDueAndItsPartitionMovesOn() {
    assign(MAIN, R1, R2);
    AtomicInteger calls = new AtomicInteger();
    List<String> handled = new ArrayList<>();
    Dispatch<String, String> dispatch = records -> {
      calls.incrementAndGet();
      if (records.get(0).key().equals("slow")) {
        throw new IllegalStateException("settlement service unavailable");
      }
      handled.add(records.get(0).key());
      return 0;
    };
    MockProducer<byte[], byte[]> producer = producer(true);
    RecordProcessor<String, String> processor = processor(dispatch, producer);

    // main: 'slow' fails once and moves to retry-1; 'next' behind it is handled in the same poll
    processor.process(MAIN, List.of(main(0, "slow"), main(1, "next")), 0, ticker.read() + 60_000 * MS);
    assertThat(handled).containsExactly("next");
    assertThat(commits.pending()).as("past both: 'slow' acknowledged by retry-1")
        .containsEntry(MAIN, new OffsetAndMetadata(2));
    assertThat(consumer.paused()).isEmpty();
    assertThat(counters.retryTopicPublishes.sum()).isEqualTo(1);
    assertThat(counters.retried.sum()).as("no in-place retry").isZero();
    ProducerRecord<byte[], byte[]> toR1 = producer.history().get(0);
    assertThat(toR1.topic()).isEqualTo("gifts.retry-1");
    assertThat(new String(toR1.key(), StandardCharsets.UTF_8)).isEqualTo("slow");
    assertThat(header(toR1, RetryTopics.ORIGINAL_TOPIC)).isEqualTo("gifts");
    assertThat(header(toR1, RetryTopics.ORIGINAL_PARTITION)).isEqualTo("0");
    assertThat(header(toR1, RetryTopics.ORIGINAL_OFFSET)).isEqualTo("0");
    assertThat(header(toR1, RetryTopics.ORIGINAL_TIMESTAMP)).isEqualTo("1700000000000");
    assertThat(header(toR1, RetryTopics.ATTEMPTS)).isEqualTo("1");
    assertThat(header(toR1, RetryTopics.DUE)).isEqualTo(Long.toString(WALL + 1_000));
    assertThat(header(toR1, RetryTopics.EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
    assertThat(header(toR1, RetryTopics.MESSAGE)).isEqualTo("settlement service unavailable");
    assertThat(header(toR1, RetryTopics.GROUP)).isEqualTo("settlement");
    assertThat(header(toR1, SiteHeaders.SITE)).as("site tag carried unchanged").isEqualTo("a");
    assertThat(header(toR1, SiteHeaders.ROUTE)).isEqualTo("room-7");

    // retry-1: not due yet -> not handled, sought back and paused until exactly 1 s after the failure
    ConsumerRecord<byte[], byte[]> onR1 = consumed(toR1, R1, 0);
    processor.process(R1, List.of(onR1), 0, ticker.read() + 60_000 * MS);
    assertThat(calls.get()).as("not handled early").isEqualTo(2);
    assertThat(consumer.paused()).containsExactly(R1);
    assertThat(consumer.position(R1)).isZero();
    ticker.advance(Duration.ofMillis(999));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("1 ms early").containsExactly(R1);
    ticker.advance(Duration.ofMillis(1));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("due").isEmpty();
    processor.process(R1, List.of(onR1), 0, ticker.read() + 60_000 * MS);
    assertThat(calls.get()).isEqualTo(3);
    assertThat(commits.pending()).containsEntry(R1, new OffsetAndMetadata(1));
    ProducerRecord<byte[], byte[]> toR2 = producer.history().get(1);
    assertThat(toR2.topic()).isEqualTo("gifts.retry-2");
    assertThat(header(toR2, RetryTopics.ORIGINAL_TOPIC)).as("still the original, not retry-1").isEqualTo("gifts");
    assertThat(header(toR2, RetryTopics.ORIGINAL_OFFSET)).isEqualTo("0");
    assertThat(header(toR2, RetryTopics.ATTEMPTS)).isEqualTo("2");
    assertThat(header(toR2, RetryTopics.DUE)).isEqualTo(Long.toString(WALL + 1_000 + 10_000));
    assertThat(count(toR2, RetryTopics.ATTEMPTS)).as("replaced, not appended").isEqualTo(1);
    assertThat(header(toR2, SiteHeaders.SITE)).isEqualTo("a");

    // retry-2: due 10 s later; then the last attempt fails -> gifts.DLT naming the original record
    ConsumerRecord<byte[], byte[]> onR2 = consumed(toR2, R2, 0);
    processor.process(R2, List.of(onR2), 0, ticker.read() + 60_000 * MS);
    assertThat(calls.get()).isEqualTo(3);
    ticker.advance(Duration.ofMillis(9_999));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).containsExactly(R2);
    ticker.advance(Duration.ofMillis(1));
    retries.resumeDue(consumer);
    processor.process(R2, List.of(onR2), 0, ticker.read() + 60_000 * MS);
    assertThat(calls.get()).as("tried once per topic: 3 attempts").isEqualTo(4);
    ProducerRecord<byte[], byte[]> dead = producer.history().get(2);
    assertThat(dead.topic()).isEqualTo("gifts.DLT");
    assertThat(header(dead, GiftkitConsumer.DLT_TOPIC)).isEqualTo("gifts");
    assertThat(header(dead, GiftkitConsumer.DLT_PARTITION)).isEqualTo("0");
    assertThat(header(dead, GiftkitConsumer.DLT_OFFSET)).isEqualTo("0");
    assertThat(header(dead, GiftkitConsumer.DLT_TIMESTAMP)).isEqualTo("1700000000000");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("3");
    assertThat(header(dead, GiftkitConsumer.DLT_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
    assertThat(header(dead, GiftkitConsumer.DLT_SITE)).isEqualTo("a");
    assertThat(header(dead, RetryTopics.ATTEMPTS)).as("retry headers left out of the dead letter").isNull();
    assertThat(dead.timestamp()).as("the original's timestamp").isEqualTo(1_700_000_000_000L);
    assertThat(commits.pending()).containsEntry(R2, new OffsetAndMetadata(1));
    assertThat(counters.retryTopicPublishes.sum()).isEqualTo(2);
    assertThat(counters.deadLettered.sum()).isEqualTo(1);
    assertThat(producer.history()).hasSize(3);
  }

  @Test
  void aNonRetryableFailureGoesStraightToTheDltWithoutARetryTopic() {
    assign(MAIN);
    Dispatch<String, String> dispatch = records -> {
      throw new IllegalArgumentException("not a gift event");
    };
    MockProducer<byte[], byte[]> producer = producer(true);
    processor(dispatch, producer).process(MAIN, List.of(main(4, "bad")), 0, ticker.read() + 60_000 * MS);

    assertThat(producer.history()).hasSize(1);
    ProducerRecord<byte[], byte[]> dead = producer.history().get(0);
    assertThat(dead.topic()).isEqualTo("gifts.DLT");
    assertThat(header(dead, GiftkitConsumer.DLT_ATTEMPTS)).isEqualTo("1");
    assertThat(header(dead, GiftkitConsumer.DLT_OFFSET)).isEqualTo("4");
    assertThat(counters.retryTopicPublishes.sum()).isZero();
    assertThat(commits.pending()).containsEntry(MAIN, new OffsetAndMetadata(5));
  }

  @Test
  void aRetryTopicPublishTheBrokerDoesNotAcknowledgeIsNotCommittedPastAndOnlyThePublishIsRetried() throws Exception {
    assign(MAIN);
    AtomicInteger calls = new AtomicInteger();
    Dispatch<String, String> dispatch = records -> {
      calls.incrementAndGet();
      if (records.get(0).key().equals("slow")) {
        throw new IllegalStateException("down");
      }
      return 0;
    };
    MockProducer<byte[], byte[]> producer = producer(false);
    RecordProcessor<String, String> processor = processor(dispatch, producer);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(main(0, "a"), main(1, "slow"), main(2, "c"));

    CompletableFuture<Void> nack = CompletableFuture.runAsync(() -> {
      await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);
      producer.errorNext(new TimeoutException("Topic gifts.retry-1 not present in metadata after 1000 ms."));
    });
    processor.process(MAIN, polled, 0, ticker.read() + 60_000 * MS);
    nack.get(10, TimeUnit.SECONDS);
    assertThat(commits.pending()).as("past 'a' only").containsOnly(Map.entry(MAIN, new OffsetAndMetadata(1)));
    assertThat(consumer.paused()).containsExactly(MAIN);
    assertThat(consumer.position(MAIN)).isEqualTo(1);
    assertThat(counters.retryTopicFailures.sum()).isEqualTo(1);
    assertThat(counters.retryTopicPublishes.sum()).isZero();

    ticker.advance(Duration.ofMillis(199));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).as("the publish back-off: 200 ms").containsExactly(MAIN);
    ticker.advance(Duration.ofMillis(1));
    retries.resumeDue(consumer);
    assertThat(consumer.paused()).isEmpty();
    CompletableFuture<Void> ack = CompletableFuture.runAsync(() -> {
      await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 2);
      producer.completeNext();
    });
    processor.process(MAIN, polled.subList(1, 3), 0, ticker.read() + 60_000 * MS);
    ack.get(10, TimeUnit.SECONDS);
    assertThat(calls.get()).as("'slow' not handled again; 'c' handled").isEqualTo(3);
    assertThat(commits.pending()).containsOnly(Map.entry(MAIN, new OffsetAndMetadata(3)));
    assertThat(producer.history().get(1).topic()).isEqualTo("gifts.retry-1");
    assertThat(header(producer.history().get(1), RetryTopics.ATTEMPTS)).isEqualTo("1");
    assertThat(counters.retryTopicPublishes.sum()).isEqualTo(1);
  }

  @Test
  void aBatchStopsBeforeARecordThatIsNotDueAndTheDueOnesAreHandled() {
    assign(R1);
    List<List<String>> batches = new ArrayList<>();
    Dispatch<String, String> dispatch = records -> {
      List<String> keys = new ArrayList<>();
      records.forEach(r -> keys.add(r.key()));
      batches.add(keys);
      return 0;
    };
    ConsumerSettings<String, String> s = new ConsumerSettings<>("unit", List.of("gifts", "gifts.retry-1"), Map.of(),
        new StringDeserializer(), new StringDeserializer(), dispatch, true, 1, policy(), 60_000 * MS, 0,
        SiteFilter.all(), new LagMonitor.Thresholds(Long.MAX_VALUE, Long.MAX_VALUE, 0), Listeners.create("l"), ticker,
        router, false);
    HandlerInvoker<String, String> invoker = new HandlerInvoker<>("unit-handler", dispatch, 60_000 * MS, ticker,
        counters.timeouts);
    closeables.add(invoker);
    LagMonitor lag = new LagMonitor("unit", s.lagThresholds(), s.lagListeners(), counters.lagAlerts,
        new java.util.concurrent.ConcurrentHashMap<>(), ticker);
    RecordProcessor<String, String> processor = new RecordProcessor<>(s, consumer, invoker, retries, commits, lag,
        new DeadLetterPublisher("unit", producer(true), ".DLT", Duration.ofSeconds(1), 1024, router), counters,
        () -> true);
    List<ConsumerRecord<byte[], byte[]>> polled = List.of(due(0, "x", WALL - 5), due(1, "y", WALL),
        due(2, "z", WALL + 300));

    processor.process(R1, polled, 0, ticker.read() + 60_000 * MS);
    assertThat(batches).containsExactly(List.of("x", "y"));
    assertThat(consumer.paused()).containsExactly(R1);
    assertThat(consumer.position(R1)).isEqualTo(2);
    ticker.advance(Duration.ofMillis(300));
    retries.resumeDue(consumer);
    processor.process(R1, polled.subList(2, 3), 0, ticker.read() + 60_000 * MS);
    assertThat(batches).containsExactly(List.of("x", "y"), List.of("z"));
    assertThat(commits.pending()).containsEntry(R1, new OffsetAndMetadata(3));
  }

  private static ConsumerRecord<byte[], byte[]> due(long offset, String key, long dueAt) {
    RecordHeaders h = new RecordHeaders();
    h.add(RetryTopics.DUE, Long.toString(dueAt).getBytes(StandardCharsets.UTF_8));
    h.add(RetryTopics.ATTEMPTS, "1".getBytes(StandardCharsets.UTF_8));
    return raw(R1, offset, key, h);
  }

  @Test
  void anotherGroupsRetryRecordIsSkippedAndCommittedNotHandled() {
    assign(R1);
    List<String> handled = new ArrayList<>();
    Dispatch<String, String> dispatch = records -> {
      handled.add(records.get(0).key());
      return 0;
    };
    RecordProcessor<String, String> processor = processor(dispatch, producer(true));
    ConsumerRecord<byte[], byte[]> theirs = due(0, "theirs", WALL + 500);
    theirs.headers().add(RetryTopics.GROUP, "analytics".getBytes(StandardCharsets.UTF_8));
    ConsumerRecord<byte[], byte[]> ours = due(1, "ours", WALL - 1);
    ours.headers().add(RetryTopics.GROUP, "settlement".getBytes(StandardCharsets.UTF_8));

    processor.process(R1, List.of(theirs, ours), 0, ticker.read() + 60_000 * MS);
    assertThat(handled).as("not waited for, not handled").containsExactly("ours");
    assertThat(counters.filtered.sum()).isEqualTo(1);
    assertThat(consumer.paused()).isEmpty();
    assertThat(commits.pending()).containsEntry(R1, new OffsetAndMetadata(2));
  }

  @Test
  void aDueTimeFarAheadWaitsNoLongerThanTheRetryTopicsDelay() {
    assertThat(router.waitNanos(due(0, "k", WALL + 3_600_000))).isEqualTo(1_000 * MS);
    assertThat(router.waitNanos(due(0, "k", WALL + 400))).isEqualTo(400 * MS);
    assertThat(router.waitNanos(due(0, "k", WALL - 1))).isZero();
    assertThat(router.waitNanos(main(0, "k"))).as("main topic records are always due").isZero();
  }

  @Test
  void headerHelpersNameTheOriginalOrTheRecordsOwn() {
    ConsumerRecord<byte[], byte[]> plain = main(9, "k");
    assertThat(RetryTopics.originalTopic(plain)).isEqualTo("gifts");
    assertThat(RetryTopics.originalOffset(plain)).isEqualTo(9);
    assertThat(RetryTopics.failedAttempts(plain)).isZero();
    ConsumerRecord<byte[], byte[]> retried = consumed(router.next(plain, new IllegalStateException("x"), 1), R1, 3);
    assertThat(retried.topic()).isEqualTo("gifts.retry-1");
    assertThat(RetryTopics.originalTopic(retried)).isEqualTo("gifts");
    assertThat(RetryTopics.originalPartition(retried)).isEqualTo(0);
    assertThat(RetryTopics.originalOffset(retried)).isEqualTo(9);
    assertThat(RetryTopics.failedAttempts(retried)).isEqualTo(1);
  }

  @Test
  void badDelaysAreRefusedNamingTheSettingAndTheValue() {
    assertThatThrownBy(() -> RetryTopics.delays(new Duration[0])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryTopics.delays").hasMessageContaining("0 delays");
    assertThatThrownBy(() -> RetryTopics.delays(Duration.ofSeconds(1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retryTopics.delays[1]")
        .hasMessageContaining("positive").hasMessageContaining("0");
    assertThatThrownBy(() -> RetryTopics.delays(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retryTopics.delays[0]")
        .hasMessageContaining("-5");
    assertThatThrownBy(() -> RetryTopics.delays(Duration.ofDays(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 1 day");
    assertThatThrownBy(() -> RetryTopics.delays(new Duration[21]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("21 delays");
    assertThat(RetryTopics.delays(Duration.ofSeconds(1), Duration.ofMinutes(1)).topicsOf("gifts"))
        .containsExactly("gifts.retry-1", "gifts.retry-2");
    assertThatThrownBy(() -> GiftkitConsumer.<String, String>builder("x")
        .kafka(Map.of("bootstrap.servers", "localhost:1", "group.id", "g"))
        .topics("gifts", "gifts.retry-1").deserializers(new StringDeserializer(), new StringDeserializer())
        .handler(r -> { }).retryTopics(RetryTopics.delays(Duration.ofSeconds(1))).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topics")
        .hasMessageContaining("gifts.retry-1");
  }
}
