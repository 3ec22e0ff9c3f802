package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The embedded default's own Kafka node: a real broker, and the demo's main code owns it. */
class EmbeddedKafkaTest {

  @Test
  void startsARealNodeThatTakesAndServesRecordsAndCleansUpOnClose() throws Exception {
    Path dir;
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      String servers = kafka.bootstrapServers();
      assertThat(servers).startsWith("127.0.0.1:");
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
        admin.createTopics(List.of(new NewTopic("gifts", 3, (short) 1))).all().get();
        assertThat(admin.listTopics().names().get()).contains("gifts");
      }
      try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", servers, "acks", "all"),
          new StringSerializer(), new StringSerializer())) {
        p.send(new ProducerRecord<>("gifts", "order-1", "paid")).get();
      }
      try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of("bootstrap.servers", servers,
          "group.id", "g", "auto.offset.reset", "earliest"), new StringDeserializer(), new StringDeserializer())) {
        c.subscribe(List.of("gifts"));
        ConsumerRecord<String, String> got = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (got == null && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
            got = r;
          }
        }
        assertThat(got).as("the record comes back").isNotNull();
        assertThat(got.key()).isEqualTo("order-1");
        assertThat(got.value()).isEqualTo("paid");
      }
      dir = kafka.directory();
      assertThat(Files.isDirectory(dir)).isTrue();
    }
    assertThat(Files.exists(dir)).as("log directory deleted on close").isFalse();
  }

  /** The application jar does not carry the test harness: main code imports nothing from it. */
  @Test
  void mainCodeUsesNothingFromTheTestHarness() {
    JavaClasses main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.giftkit.demo");
    ArchRuleDefinition.noClasses().should().dependOnClassesThat().resideInAPackage("io.giftkit.testing..")
        .check(main);
  }
}
