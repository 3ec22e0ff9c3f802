package io.giftkit.demo;

import io.giftkit.testing.KafkaBroker;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Points a test's demo at the in-JVM KRaft broker (what the demo's main method does for itself). */
final class DemoTestKafka {

  private DemoTestKafka() {}

  static void register(DynamicPropertyRegistry r) {
    r.add("spring.kafka.bootstrap-servers", () -> KafkaBroker.shared().bootstrapServers());
  }
}
