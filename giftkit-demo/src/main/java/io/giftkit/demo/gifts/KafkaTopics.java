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

  public KafkaTopics(@Value("${spring.kafka.bootstrap-servers}") List<String> servers,
      @Value("${giftkit.demo.gift-topic:gift-events}") String topic,
      @Value("${giftkit.demo.gift-topic-partitions:3}") int partitions) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", servers)))) {
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
}
