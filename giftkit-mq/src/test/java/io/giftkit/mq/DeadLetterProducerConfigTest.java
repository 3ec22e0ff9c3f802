package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.testing.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dead-letter producer gets the consumer's client settings that a producer accepts, and the user's own. */
class DeadLetterProducerConfigTest {

  static final KafkaBroker KAFKA = KafkaBroker.shared();
  private final List<GiftkitConsumer<?, ?>> consumers = new ArrayList<>();

  @AfterEach
  void stop() {
    consumers.forEach(GiftkitConsumer::close);
  }

  /** Settings a plaintext broker accepts, added to the consumer, that the old fixed list of 8 keys left out. */
  private static Map<String, Object> consumerConfig(String group) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "settlement");
    c.put("client.dns.lookup", "use_all_dns_ips");
    c.put("metadata.max.age.ms", "60000");
    c.put("security.protocol", "PLAINTEXT");
    c.put("reconnect.backoff.max.ms", "2000");
    c.put("socket.connection.setup.timeout.ms", "5000");
    c.put("sasl.login.refresh.buffer.seconds", "120"); // unused on PLAINTEXT, but a producer setting
    c.put("ssl.vendor.plugin.setting", "x"); // unknown to Kafka, read by a plugin: copied by prefix
    // the consumer's alone: never copied
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
    c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "120000");
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "40000"); // GiftKit's dead-letter timeout wins
    c.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, "com.example.ConsumerOnlyInterceptor");
    return c;
  }

  private static GiftkitConsumer.Builder<String, String> builder(String topic, Map<String, Object> kafka) {
    return GiftkitConsumer.<String, String>builder("dlt-config").kafka(kafka).topics(topic)
        .deserializers(new StringDeserializer(), new StringDeserializer());
  }

  @Test
  void everyProducerSettingOfTheConsumerReachesTheDeadLetterProducerAndNothingElse() {
    Map<String, Object> p = builder("t", consumerConfig("g")).handler(r -> { })
        .deadLetterTimeout(Duration.ofSeconds(5))
        .build().deadLetterProducerConfig();
    assertThat(p).containsEntry("bootstrap.servers", KAFKA.bootstrapServers())
        .containsEntry("client.dns.lookup", "use_all_dns_ips")
        .containsEntry("metadata.max.age.ms", "60000")
        .containsEntry("security.protocol", "PLAINTEXT")
        .containsEntry("reconnect.backoff.max.ms", "2000")
        .containsEntry("socket.connection.setup.timeout.ms", "5000")
        .containsEntry("sasl.login.refresh.buffer.seconds", "120")
        .containsEntry("ssl.vendor.plugin.setting", "x")
        .containsEntry("client.id", "settlement-dlt")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true)
        .containsEntry("request.timeout.ms", 5_000)
        .containsEntry("delivery.timeout.ms", 5_000)
        .containsEntry("key.serializer", ByteArraySerializer.class)
        .containsEntry("value.serializer", ByteArraySerializer.class);
    assertThat(p).doesNotContainKeys("group.id", "max.poll.records", "max.poll.interval.ms", "session.timeout.ms",
        "auto.offset.reset", "isolation.level", "enable.auto.commit", "key.deserializer", "value.deserializer",
        "interceptor.classes");
  }

  @Test
  void theUsersProducerSettingsComeLastButNeverTheSerializers() {
    Map<String, Object> p = builder("t", consumerConfig("g")).handler(r -> { })
        .deadLetterProducerConfig(Map.of("compression.type", "gzip", "metadata.max.age.ms", "30000"))
        .build().deadLetterProducerConfig();
    assertThat(p).containsEntry("compression.type", "gzip").containsEntry("metadata.max.age.ms", "30000");
    assertThatThrownBy(() -> builder("t", consumerConfig("g"))
        .deadLetterProducerConfig(Map.of("value.serializer", "org.apache.kafka.common.serialization.StringSerializer")))
        .hasMessage("deadLetterProducerConfig must not set value.serializer (dead letters are the record's bytes),"
            + " but was org.apache.kafka.common.serialization.StringSerializer");
  }

  /** With all those settings (and gzip from the user), a poison record still reaches the real broker's DLT. */
  @Test
  void aDeadLetterIsPublishedWithTheDerivedSettings() throws Exception {
    String topic = KAFKA.createTopic("dlt-config", 1);
    KAFKA.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1)));
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic, "k1".getBytes(StandardCharsets.UTF_8), "POISON".getBytes(StandardCharsets.UTF_8)));
      p.send(new ProducerRecord<>(topic, "k2".getBytes(StandardCharsets.UTF_8), "fine".getBytes(StandardCharsets.UTF_8)));
    }
    Map<String, Object> kafka = consumerConfig("dlt-config-" + topic);
    kafka.remove(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG); // the consumer itself must be able to start
    kafka.remove("ssl.vendor.plugin.setting");
    Deserializer<String> picky = (t, bytes) -> {
      String s = new String(bytes, StandardCharsets.UTF_8);
      if (s.equals("POISON")) {
        throw new IllegalArgumentException("poison");
      }
      return s;
    };
    List<String> handled = new CopyOnWriteArrayList<>();
    GiftkitConsumer<String, String> consumer = GiftkitConsumer.<String, String>builder("dlt-config").kafka(kafka)
        .topics(topic).deserializers(new StringDeserializer(), picky)
        .deadLetterProducerConfig(Map.of("compression.type", "gzip"))
        .handler(r -> handled.add(r.value())).build();
    consumers.add(consumer);
    consumer.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.deadLettered() == 1 && handled.size() == 1);
    ConsumerRecord<String, String> dead = GiftkitConsumerTest.readOne(topic + ".DLT");
    assertThat(dead.value()).isEqualTo("POISON");
    assertThat(consumer.deadLetterFailures()).isZero();
  }
}
