package io.giftkit.boot.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.testing.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * SASL settings given only as {@code spring.kafka.*} reach GiftKit's consumer and its dead-letter
 * producer: a real broker whose only client listener takes SASL/PLAIN, so a client without the
 * login cannot even list topics.
 */
class BootKafkaSettingsTest {

  static final String USER = "giftkit";
  static final String PASSWORD = "giftkit-sasl-secret";
  static KafkaBroker sasl;

  @BeforeAll
  static void broker() {
    sasl = KafkaBroker.startSaslPlain(USER, PASSWORD);
  }

  @AfterAll
  static void stop() {
    sasl.close();
  }

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, GiftkitAutoConfiguration.class,
          GiftkitMqAutoConfiguration.class));

  private static Map<String, Object> client() {
    Map<String, Object> c = new HashMap<>(sasl.clientProperties());
    c.put("bootstrap.servers", sasl.bootstrapServers());
    return c;
  }

  @Test
  void theBrokerRefusesClientsWithoutTheLogin() {
    try (Admin anonymous = Admin.create(Map.of("bootstrap.servers", sasl.bootstrapServers(),
        "default.api.timeout.ms", 3_000, "request.timeout.ms", 2_000))) {
      assertThatThrownBy(() -> anonymous.listTopics().names().get(10, TimeUnit.SECONDS))
          .as("no SASL: no answer").isNotNull();
    }
  }

  @Test
  void saslFromSpringKafkaReachesTheConsumerAndTheDeadLetterProducer() throws Exception {
    try (Admin admin = Admin.create(client())) {
      admin.createTopics(List.of(new NewTopic("sasl-gifts", 1, (short) 1), new NewTopic("sasl-gifts.DLT", 1, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    List<String> handled = new CopyOnWriteArrayList<>();
    runner.withPropertyValues(
            "spring.kafka.bootstrap-servers=" + sasl.bootstrapServers(),
            "spring.kafka.security.protocol=SASL_PLAINTEXT",
            "spring.kafka.properties.sasl.mechanism=PLAIN",
            "spring.kafka.properties.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"" + USER + "\" password=\"" + PASSWORD + "\";",
            "giftkit.mq.defaults.max-attempts=1",
            "giftkit.mq.consumers.settlement.topics=sasl-gifts")
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitKafkaClients clients = context.getBean(GiftkitKafkaClients.class);
          assertThat(clients.consumer()).containsEntry("security.protocol", "SASL_PLAINTEXT")
              .containsEntry("sasl.mechanism", "PLAIN").containsKey("sasl.jaas.config");
          assertThat(clients.producerConnection()).containsEntry("security.protocol", "SASL_PLAINTEXT")
              .containsKey("sasl.jaas.config").doesNotContainKeys("acks", "key.serializer", "value.serializer");
          assertThat(clients.toString()).as("the login is never shown").doesNotContain(PASSWORD);

          GiftkitConsumers consumers = context.getBean(GiftkitConsumers.class);
          consumers.start();
          GiftkitConsumer<String, String> settlement = consumers.create("settlement", b -> b
              .deserializers(new StringDeserializer(), new StringDeserializer())
              .handler(r -> {
                if (r.key().equals("poison")) {
                  throw new IllegalArgumentException("not a gift event");
                }
                handled.add(r.key());
              }));
          try (KafkaProducer<String, String> p = new KafkaProducer<>(client(), new StringSerializer(),
              new StringSerializer())) {
            p.send(new ProducerRecord<>("sasl-gifts", "order-1", "1")).get();
            p.send(new ProducerRecord<>("sasl-gifts", "poison", "?")).get();
            p.send(new ProducerRecord<>("sasl-gifts", "order-2", "1")).get();
          }
          await().atMost(Duration.ofSeconds(60)).until(() -> settlement.deadLettered() == 1 && handled.size() == 2);
          assertThat(handled).containsExactly("order-1", "order-2");
          consumers.stop();
        });
    Map<String, Object> c = client();
    c.put("group.id", "dlt-reader");
    c.put("auto.offset.reset", "earliest");
    List<String> deadLetters = new ArrayList<>();
    try (KafkaConsumer<String, String> dlt = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      dlt.subscribe(List.of("sasl-gifts.DLT"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (deadLetters.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : dlt.poll(Duration.ofMillis(500))) {
          deadLetters.add(r.key());
        }
      }
    }
    assertThat(deadLetters).as("published by the dead-letter producer over SASL").containsExactly("poison");
  }
}
