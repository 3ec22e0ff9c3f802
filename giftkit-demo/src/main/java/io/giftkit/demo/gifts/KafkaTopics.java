package io.giftkit.demo.gifts;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** Creates the gift topic and its dead-letter topic at start-up if they do not exist. */
@Component
public class KafkaTopics {

  public KafkaTopics(io.giftkit.boot.mq.GiftkitKafkaClients clients,
      @Value("${giftkit.demo.gift-topic:gift-events}") String topic,
      @Value("${giftkit.demo.gift-topic-partitions:3}") int partitions) throws Exception {
    // Boot's spring.kafka.* connection settings (security, SSL, SASL), as the consumers and producers use
    try (Admin admin = Admin.create(adminConfig(clients))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String t : List.of(topic, topic + ".DLT")) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, t.equals(topic) ? partitions : 1, (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
            throw e; // another instance creating it at the same time is fine; anything else is not
          }
        }
      }
    }
  }

  /** The admin client's settings: the producer connection's, less what only a producer takes. */
  static Map<String, Object> adminConfig(io.giftkit.boot.mq.GiftkitKafkaClients clients) {
    Map<String, Object> admin = new java.util.HashMap<>();
    clients.producerConnection().forEach((k, v) -> {
      if (AdminClientConfig.configNames().contains(k) || k.startsWith("ssl.") || k.startsWith("sasl.")
          || k.startsWith("security.") || !k.contains(".") || k.startsWith("org.springframework")) {
        admin.put(k, v);
      }
    });
    return admin;
  }
}
