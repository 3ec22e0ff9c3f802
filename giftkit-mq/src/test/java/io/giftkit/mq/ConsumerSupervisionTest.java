package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The supervisor on a real KRaft broker in the test JVM: a dead poll loop is restarted and carries on. */
class ConsumerSupervisionTest {

  static final KafkaBroker KAFKA = KafkaBroker.shared();
  private final List<GiftkitConsumer<?, ?>> consumers = new ArrayList<>();

  @AfterEach
  void stop() {
    consumers.forEach(GiftkitConsumer::close);
  }

  private static void send(String topic, int from, int to) {
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        KAFKA.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
      for (int i = from; i < to; i++) {
        p.send(new ProducerRecord<>(topic, "order-" + i, "1"));
      }
    }
  }

  private GiftkitConsumer<String, String> started(String topic, Set<String> handled, Duration firstDelay) {
    GiftkitConsumer<String, String> c = GiftkitConsumer.<String, String>builder("supervised-" + topic)
        .kafka(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "supervised-" + topic))
        .topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer())
        .restarts(5, firstDelay, Duration.ofSeconds(30))
        .handler(r -> handled.add(r.key()))
        .build();
    consumers.add(c);
    c.start();
    return c;
  }

  /** The loop dies of an unexpected exception: RESTARTING for the delay, then RUNNING again and handling new records. */
  @Test
  void aPollLoopThatDiesIsRestartedAfterItsDelayAndCarriesOn() {
    String topic = KAFKA.createTopic("supervised", 2);
    send(topic, 0, 20);
    Set<String> handled = ConcurrentHashMap.newKeySet();
    GiftkitConsumer<String, String> consumer = started(topic, handled, Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 20);
    assertThat(consumer.restarts()).isZero();

    IllegalStateException boom = new IllegalStateException("simulated bug in the poll loop");
    consumer.failPollLoopOnce(boom);
    await().atMost(Duration.ofSeconds(10)).until(() -> consumer.state() == GiftkitConsumer.State.RESTARTING);
    assertThat(consumer.restarts()).isEqualTo(1);
    assertThat(consumer.failure()).isSameAs(boom);

    await().atMost(Duration.ofSeconds(30)).until(() -> consumer.state() == GiftkitConsumer.State.RUNNING);
    send(topic, 20, 40);
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 40);
    assertThat(consumer.restarts()).isEqualTo(1);
    consumer.close();
    assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.STOPPED);
  }

  /** A bad configuration is not restarted: FAILED at once, with the cause. */
  @Test
  void whatARestartCannotFixFailsTheConsumer() {
    String topic = KAFKA.createTopic("unfixable", 1);
    send(topic, 0, 5);
    Set<String> handled = ConcurrentHashMap.newKeySet();
    GiftkitConsumer<String, String> consumer = started(topic, handled, Duration.ofMillis(100));
    await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 5);
    consumer.failPollLoopOnce(new ConfigException("security.protocol", "NOPE", "not a protocol"));
    await().atMost(Duration.ofSeconds(10)).until(() -> consumer.state() == GiftkitConsumer.State.FAILED);
    assertThat(consumer.restarts()).isZero();
    assertThat(consumer.failure()).isInstanceOf(ConfigException.class);
  }

  /** Closing while a restart waits settles the slot: STOPPED, no thread started after close. */
  @Test
  void closingWhileARestartWaitsStopsTheConsumer() {
    String topic = KAFKA.createTopic("closing-restart", 1);
    Set<String> handled = ConcurrentHashMap.newKeySet();
    GiftkitConsumer<String, String> consumer = started(topic, handled, Duration.ofSeconds(20));
    consumer.failPollLoopOnce(new IllegalStateException("dies before its first record"));
    await().atMost(Duration.ofSeconds(10)).until(() -> consumer.state() == GiftkitConsumer.State.RESTARTING);
    consumer.close();
    assertThat(consumer.state()).isEqualTo(GiftkitConsumer.State.STOPPED);
  }
}
