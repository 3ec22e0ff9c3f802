package io.giftkit.demo;

import io.giftkit.testing.KafkaBroker;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Points a test's demo at the in-JVM KRaft broker (what the demo's main method does for itself). */
final class DemoTestKafka {

  private DemoTestKafka() {}

  static void register(DynamicPropertyRegistry r) {
    r.add("spring.kafka.bootstrap-servers", () -> KafkaBroker.shared().bootstrapServers());
  }

  /**
   * Gives a test class's demo a gift topic, a settlement group and an (H2) payment provider of its
   * own, so the contexts that share the broker in one JVM never consume each other's events or see
   * each other's charges.
   *
   * @param topic the topic (the settlement group is {@code settlement-<topic>})
   * @param mirrored more topics settlement consumes (e.g. the other site's mirrored one)
   */
  static void isolate(DynamicPropertyRegistry r, String topic, String... mirrored) {
    r.add("giftkit.demo.gift-topic", () -> topic);
    // and a payment provider of its own (an embedded default's H2 one is shared by name in the JVM)
    r.add("giftkit.demo.payment.url", () -> "jdbc:h2:mem:payments_" + topic.replaceAll("[^A-Za-z0-9]", "_")
        + ";MODE=MySQL;DB_CLOSE_DELAY=-1");
    r.add("giftkit.mq.consumers.settlement.topics",
        () -> mirrored.length == 0 ? topic : topic + "," + String.join(",", mirrored));
    r.add("giftkit.mq.consumers.settlement.group-id", () -> "settlement-" + topic);
  }
}
