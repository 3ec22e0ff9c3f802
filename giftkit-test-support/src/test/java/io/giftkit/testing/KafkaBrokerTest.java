package io.giftkit.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KafkaBrokerTest {

  private static final int RECORDS = 10_000;

  @Test
  void producesAndConsumesTenThousandRecordsThroughARealBroker() throws Exception {
    KafkaBroker kafka = KafkaBroker.shared();
    assertThat(KafkaBroker.shared()).isSameAs(kafka);
    String topic = kafka.createTopic("harness", 3);
    assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS)).contains(topic);

    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        producer.send(new ProducerRecord<>(topic, "uid-" + (i % 97), Integer.toString(i)));
      }
      producer.flush();
    }

    Properties consumerProps = new Properties();
    consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, "harness-" + topic);
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Set<Integer> seen = new HashSet<>();
    Map<String, Integer> lastPerKey = new HashMap<>();
    int received = 0;
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (received < RECORDS && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          received++;
          int value = Integer.parseInt(record.value());
          seen.add(value);
          // Records with one key share a partition, so they arrive in the order they were sent.
          Integer previous = lastPerKey.put(record.key(), value);
          assertThat(previous == null || previous < value)
              .as("order for key %s: %s then %s", record.key(), previous, value)
              .isTrue();
        }
      }
    }
    assertThat(received).isEqualTo(RECORDS);
    assertThat(seen).hasSize(RECORDS);
  }

  @Test
  void unreachableExternalBrokerFailsNamingAddressAndRemedy() {
    assertThatThrownBy(() -> KafkaBroker.connect("127.0.0.1:1"))
        .isInstanceOf(ServiceUnavailableError.class)
        .hasMessageStartingWith("Kafka is not reachable at 127.0.0.1:1: ")
        .hasMessageContaining("GIFTKIT_KAFKA_BOOTSTRAP");
  }
}
