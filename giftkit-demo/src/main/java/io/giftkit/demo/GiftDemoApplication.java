package io.giftkit.demo;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Starts the reference gift system ({@code scripts/demo}). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GiftDemoApplication {

  private static final Logger LOG = LoggerFactory.getLogger(GiftDemoApplication.class);

  public static void main(String[] args) {
    if (!kafkaConfigured(args)) {
      // The embedded default: an in-process KRaft broker, so the demo needs nothing installed.
      EmbeddedKafka kafka = EmbeddedKafka.start();
      Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "giftkit-demo-kafka-shutdown"));
      String servers = kafka.bootstrapServers();
      System.setProperty("spring.kafka.bootstrap-servers", servers);
      LOG.info("GiftKit demo: no spring.kafka.bootstrap-servers given, started an in-process Kafka broker at {}", servers);
    }
    SpringApplication.run(GiftDemoApplication.class, args);
  }

  /** Whether Kafka is configured (an argument, a system property, the environment, or the real profile). */
  static boolean kafkaConfigured(String[] args) {
    for (String a : args) {
      if (a.startsWith("--spring.kafka.bootstrap-servers=") || (a.startsWith("--spring.profiles.active=") && a.contains("real"))) {
        return true;
      }
    }
    String profiles = System.getenv("SPRING_PROFILES_ACTIVE");
    return System.getProperty("spring.kafka.bootstrap-servers") != null
        || System.getenv("SPRING_KAFKA_BOOTSTRAP_SERVERS") != null
        || (profiles != null && profiles.contains("real"));
  }

  /** Says where to look once the server is up. */
  @EventListener
  public void ready(ApplicationReadyEvent event) {
    if (event.getApplicationContext() instanceof WebServerApplicationContext web) {
      int port = web.getWebServer().getPort();
      LOG.info("GiftKit demo ready: dashboard http://localhost:{}/ (panel: /api/rooms/1/panel?uid=1001, send: POST"
          + " /api/gifts, room: /api/rooms/1, GiftKit state: /actuator/giftkit, faults: POST /admin/faults)", port);
    }
  }
}
