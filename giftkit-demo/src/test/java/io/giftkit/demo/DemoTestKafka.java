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
   * Gives a test class's demo a gift topic and settlement group of its own, so the contexts that
   * share the broker in one JVM never consume each other's events.
   *
   * @param topic the topic (the settlement group is {@code settlement-<topic>})
   * @param mirrored more topics settlement consumes (e.g. the other site's mirrored one)
   */
  static void isolate(DynamicPropertyRegistry r, String topic, String... mirrored) {
    r.add("giftkit.demo.gift-topic", () -> topic);
    r.add("giftkit.mq.consumers.settlement.topics",
        () -> mirrored.length == 0 ? topic : topic + "," + String.join(",", mirrored));
    r.add("giftkit.mq.consumers.settlement.group-id", () -> "settlement-" + topic);
  }
}
