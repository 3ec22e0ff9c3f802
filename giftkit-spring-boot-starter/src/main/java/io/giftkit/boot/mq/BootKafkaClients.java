package io.giftkit.boot.mq;

import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.kafka.autoconfigure.SslBundleSslEngineFactory;
import org.springframework.boot.ssl.SslBundle;

/**
 * {@link GiftkitKafkaClients} from Spring Boot's Kafka support; referenced only when
 * {@code spring-boot-kafka} is on the classpath. Applies the connection details the way Boot's
 * {@code KafkaAutoConfiguration} does for its own consumer and producer factories.
 */
final class BootKafkaClients {

  private BootKafkaClients() {}

  static GiftkitKafkaClients of(KafkaProperties properties, KafkaConnectionDetails details) {
    Map<String, Object> consumer = properties.buildConsumerProperties();
    KafkaConnectionDetails.Configuration c = details.getConsumer();
    consumer.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", c.getBootstrapServers()));
    apply(consumer, details.getSecurityProtocol(), c.getSslBundle());
    Map<String, Object> producer = properties.buildProducerProperties();
    KafkaConnectionDetails.Configuration p = details.getProducer();
    producer.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", p.getBootstrapServers()));
    apply(producer, p.getSecurityProtocol(), p.getSslBundle());
    return new GiftkitKafkaClients(consumer, producer);
  }

  private static void apply(Map<String, Object> settings, String securityProtocol, SslBundle bundle) {
    if (securityProtocol != null && !securityProtocol.isEmpty()) {
      settings.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, securityProtocol);
    }
    if (bundle != null) {
      settings.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, SslBundleSslEngineFactory.class);
      settings.put(SslBundle.class.getName(), bundle);
    }
  }
}
