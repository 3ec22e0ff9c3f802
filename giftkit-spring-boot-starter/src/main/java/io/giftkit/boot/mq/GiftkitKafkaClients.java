package io.giftkit.boot.mq;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The Kafka client settings GiftKit's consumers and dead-letter producers start from (a bean; the
 * demo's producer and admin client use it too). With Spring Boot's Kafka support on the classpath
 * ({@code spring-boot-kafka}) they are Boot's own: {@code KafkaProperties.buildConsumerProperties()}
 * and {@code buildProducerProperties()} with the {@code KafkaConnectionDetails} applied as Boot's
 * {@code KafkaAutoConfiguration} applies them, so every {@code spring.kafka.*} setting a user gives —
 * {@code security.protocol}, {@code ssl.*} and SSL bundles, SASL through {@code properties.*},
 * client id … — reaches GiftKit's clients. Without it, only {@code spring.kafka.bootstrap-servers}.
 * {@code giftkit.mq.bootstrap-servers}, when set, replaces the servers in both.
 *
 * @param consumer consumer settings (unmodifiable); per-consumer properties are added on top
 * @param producer producer settings (unmodifiable)
 */
public record GiftkitKafkaClients(Map<String, Object> consumer, Map<String, Object> producer) {

  /**
   * What a producer with a delivery contract of its own (GiftKit's dead letters: acks=all,
   * idempotence, its timeouts; the demo's relay) decides itself, or must not take from the
   * application's producer settings (serializers, transactions, interceptors).
   */
  private static final Set<String> DELIVERY_CONTRACT = Set.of("acks", "enable.idempotence", "max.block.ms",
      "delivery.timeout.ms", "request.timeout.ms", "linger.ms", "transactional.id", "key.serializer",
      "value.serializer", "interceptor.classes");

  /**
   * @param consumer consumer settings
   * @param producer producer settings
   */
  public GiftkitKafkaClients {
    consumer = Collections.unmodifiableMap(new LinkedHashMap<>(consumer));
    producer = Collections.unmodifiableMap(new LinkedHashMap<>(producer));
  }

  /**
   * @param servers the bootstrap servers
   * @return settings that name the servers only
   */
  public static GiftkitKafkaClients ofBootstrapServers(List<String> servers) {
    Map<String, Object> only = servers.isEmpty() ? Map.of()
        : Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", servers));
    return new GiftkitKafkaClients(only, only);
  }

  /**
   * @param servers servers to use instead (nothing changes when empty)
   * @return these settings with the servers replaced
   */
  GiftkitKafkaClients withBootstrapServers(List<String> servers) {
    if (servers.isEmpty()) {
      return this;
    }
    Map<String, Object> c = new LinkedHashMap<>(consumer);
    Map<String, Object> p = new LinkedHashMap<>(producer);
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", servers));
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", servers));
    return new GiftkitKafkaClients(c, p);
  }

  /** @return whether bootstrap servers are known */
  public boolean hasBootstrapServers() {
    Object servers = consumer.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    return servers != null && !(servers instanceof List<?> l ? l.isEmpty() : String.valueOf(servers).isBlank());
  }

  /**
   * @return the producer settings that say how to reach the cluster (servers, security, SSL and SSL
   *     bundles, SASL, client settings), without acks, idempotence, timeouts, serializers,
   *     transactions or interceptors: what GiftKit's dead-letter producers and the demo's producer
   *     start from, adding their own delivery contract
   */
  public Map<String, Object> producerConnection() {
    Map<String, Object> p = new LinkedHashMap<>(producer);
    p.keySet().removeAll(DELIVERY_CONTRACT);
    return p;
  }

  /** Secrets (SASL JAAS configurations, passwords, SSL bundles) are not shown. */
  @Override
  public String toString() {
    return "GiftkitKafkaClients{consumer=" + masked(consumer) + ", producer=" + masked(producer) + "}";
  }

  private static Map<String, Object> masked(Map<String, Object> settings) {
    Map<String, Object> m = new LinkedHashMap<>();
    settings.forEach((k, v) -> m.put(k, k.contains("password") || k.contains("jaas") || k.contains("secret")
        || k.contains("SslBundle") || k.contains("token") ? "******" : v));
    return m;
  }
}
