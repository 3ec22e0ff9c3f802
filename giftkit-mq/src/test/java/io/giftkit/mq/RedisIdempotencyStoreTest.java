package io.giftkit.mq;

import static io.giftkit.mq.GiftkitConsumerTest.KAFKA;
import static io.giftkit.mq.GiftkitConsumerTest.kafka;
import static io.giftkit.mq.GiftkitConsumerTest.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.mq.RedisIdempotencyStore.Fault;
import io.giftkit.testing.RedisExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16 item 6: a claim whose round trip times out after its {@code SET NX} reached Redis is
 * released by its owner, or taken over by the owner's retry — never left "pending elsewhere" until
 * the record is dead-lettered. Real Redis; the timeout is injected by the store's package-private
 * hook, after the commands took effect (or without sending them), so nothing else on the shared
 * server is paused.
 */
class RedisIdempotencyStoreTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  private StatefulRedisConnection<String, String> redis;

  @BeforeEach
  void connect() {
    redis = REDIS.client().connect();
  }

  @AfterEach
  void disconnect() {
    redis.close();
  }

  private RedisIdempotencyStore store(String prefix) {
    return RedisIdempotencyStore.create(redis, REDIS.key(prefix), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofSeconds(2));
  }

  /** The first {@code n} round trips named {@code what} fail as given; everything else as Redis answers. */
  private static Function<String, Fault> first(int n, String what, Fault fault) {
    AtomicInteger left = new AtomicInteger(n);
    return roundTrip -> roundTrip.equals(what) && left.getAndDecrement() > 0 ? fault : Fault.NONE;
  }

  @Test
  void aClaimThatTimesOutAfterReachingRedisReleasesItsOwnKeys() throws Exception {
    RedisIdempotencyStore store = store("released:");
    store.injectFaults(first(1, "claim", Fault.TIME_OUT_AFTER_SENT));
    assertThatThrownBy(() -> store.claimAll("g", List.of("order-1", "order-2")))
        .isInstanceOf(TimeoutException.class).hasMessageContaining("claim");
    assertThat(REDIS.commands().exists(REDIS.key("released:") + "g:order-1", REDIS.key("released:") + "g:order-2"))
        .as("the SETs reached Redis, and the owner compare-and-deleted them").isZero();
    assertThat(store.remembered()).as("the release was confirmed: nothing to remember").isZero();

    RedisIdempotencyStore.Claims retry = store.claimAll("g", List.of("order-1", "order-2"));
    assertThat(retry.fresh()).as("the retry applies the records").containsExactly("order-1", "order-2");
    retry.complete();
    assertThat(store.claimAll("g", List.of("order-1")).fresh()).as("then they are duplicates").isEmpty();
  }

  @Test
  void keysLeftByATimedOutClaimWhoseReleaseAlsoFailedAreTakenOverByTheOwnersRetryOnly() throws Exception {
    RedisIdempotencyStore store = store("taken:");
    AtomicInteger claims = new AtomicInteger();
    AtomicInteger releases = new AtomicInteger();
    store.injectFaults(roundTrip -> switch (roundTrip) {
      case "claim" -> claims.getAndIncrement() == 0 ? Fault.TIME_OUT_AFTER_SENT : Fault.NONE;
      case "release" -> releases.getAndIncrement() == 0 ? Fault.TIME_OUT_UNSENT : Fault.NONE; // Redis unreachable
      default -> Fault.NONE;
    });
    assertThatThrownBy(() -> store.claimAll("g", List.of("order-1", "order-2", "order-3")))
        .isInstanceOf(TimeoutException.class);
    String key1 = REDIS.key("taken:") + "g:order-1";
    String leftBehind = REDIS.commands().get(key1);
    assertThat(leftBehind).as("the timed-out attempt's claim is still in Redis").startsWith("pending:");
    assertThat(store.remembered()).isEqualTo(3);

    RedisIdempotencyStore other = store("taken:"); // another consumer, same keys
    assertThatThrownBy(() -> other.claimAll("g", List.of("order-1")))
        .as("to anyone else the key is held").isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("being handled by another consumer (pending)");

    REDIS.commands().set(REDIS.key("taken:") + "g:order-0", "done");
    RedisIdempotencyStore.Claims retry = store.claimAll("g", List.of("order-0", "order-1", "order-2", "order-3"));
    assertThat(retry.fresh()).as("the owner's retry claims its own keys back; order-0 was applied before")
        .containsExactly("order-1", "order-2", "order-3");
    assertThat(store.takenOver()).isEqualTo(3);
    assertThat(store.remembered()).isZero();
    assertThat(REDIS.commands().get(key1)).as("now under the retry's token").startsWith("pending:")
        .isNotEqualTo(leftBehind);
    assertThat(REDIS.commands().pttl(key1)).as("with a fresh lease").isBetween(50_000L, 60_000L);
    retry.complete();
    assertThat(REDIS.commands().get(key1)).isEqualTo("done");
  }

  @Test
  void aReleaseThatDoesNotGetThroughAfterAFailedHandlerIsTakenOverByTheRetry() throws Exception {
    RedisIdempotencyStore store = store("failed-release:");
    RedisIdempotencyStore.Claims first = store.claimAll("g", List.of("order-1"));
    store.injectFaults(first(1, "release", Fault.TIME_OUT_UNSENT));
    first.release(); // the handler failed; Redis did not answer the release
    assertThat(REDIS.commands().get(REDIS.key("failed-release:") + "g:order-1")).startsWith("pending:");
    assertThat(store.claimAll("g", List.of("order-1")).fresh()).containsExactly("order-1");
  }

  /** Through the consumer: the first claim of a batch times out after reaching Redis and its release does not get through. */
  @Test
  void aConsumerWhoseFirstClaimTimesOutAppliesEveryRecordOnceAndDeadLettersNone() throws Exception {
    String topic = KAFKA.createTopic("redis-timeout", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < 50; i++) {
        p.send(new ProducerRecord<>(topic, "order-" + i, "v"));
      }
    }
    RedisIdempotencyStore store = store("consumer:");
    AtomicInteger claims = new AtomicInteger();
    AtomicInteger releases = new AtomicInteger();
    store.injectFaults(roundTrip -> switch (roundTrip) {
      case "claim" -> claims.getAndIncrement() == 0 ? Fault.TIME_OUT_AFTER_SENT : Fault.NONE;
      case "release" -> releases.getAndIncrement() == 0 ? Fault.TIME_OUT_UNSENT : Fault.NONE;
      default -> Fault.NONE;
    });
    Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
    GiftkitConsumer<String, String> consumer = GiftkitConsumer.<String, String>builder("redis-timeout")
        .kafka(kafka("rt-" + topic)).topics(topic).deserializers(new StringDeserializer(), new StringDeserializer())
        .retries(3, Duration.ofMillis(20))
        .idempotentBatchHandler(store, ConsumerRecord::key,
            records -> records.forEach(r -> applied.computeIfAbsent(r.key(), k -> new AtomicInteger()).incrementAndGet()))
        .build();
    consumer.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> applied.size() == 50 || consumer.deadLettered() > 0);
      assertThat(consumer.deadLettered()).as("nothing dead-lettered").isZero();
      assertThat(applied).hasSize(50);
      assertThat(applied).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
      assertThat(consumer.deadLettered()).isZero();
      assertThat(store.takenOver()).as("the retry took its own keys back").isPositive();
      assertThat(REDIS.commands().get(REDIS.key("consumer:") + "rt-" + topic + ":order-0")).isEqualTo("done");
    } finally {
      consumer.close();
    }
  }
}
