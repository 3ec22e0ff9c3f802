package io.giftkit.mq;

import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The dead-letter producer's settings: every setting of the consumer's configuration that a producer
 * accepts (so it reaches the same cluster the same way: security, SSL, SASL of any mechanism —
 * Kerberos, OAuth, IAM callback handlers —, DNS lookup, metadata, socket and reconnect settings …),
 * then GiftKit's dead-letter contract, then the user's own producer settings. One job; stateless.
 *
 * <p>Copied: the keys of {@link ProducerConfig#configNames()} and any key starting with
 * {@code security.}, {@code ssl.} or {@code sasl.} (settings a plugin reads). Never copied: what is
 * the consumer's alone ({@code group.id}, deserializers, {@code max.poll.*} … are not producer
 * settings), {@code interceptor.classes} (consumer interceptors are not producer interceptors), and
 * the serializers (dead letters are the record's bytes). {@code client.id} becomes
 * {@code <client.id>-dlt}.
 */
final class DeadLetterProducerConfig {

  private static final List<String> PREFIXES = List.of("security.", "ssl.", "sasl.");
  private static final Set<String> NEVER = Set.of(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG,
      ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
      ProducerConfig.TRANSACTIONAL_ID_CONFIG, CommonClientConfigs.CLIENT_ID_CONFIG);

  private DeadLetterProducerConfig() {
  }

  /** @return whether the dead-letter producer gets this consumer setting */
  static boolean copied(String key) {
    if (NEVER.contains(key)) {
      return false;
    }
    if (ProducerConfig.configNames().contains(key)) {
      return true;
    }
    for (String prefix : PREFIXES) {
      if (key.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param consumer the consumer's settings as the user gave them
   * @param user the user's dead-letter producer settings (applied last; never serializers)
   * @param timeout how long a dead-letter publish may take
   * @return the producer's settings, unmodifiable
   */
  static Map<String, Object> of(Map<String, ?> consumer, Map<String, ?> user, Duration timeout) {
    Map<String, Object> p = new HashMap<>();
    consumer.forEach((key, value) -> {
      if (value != null && copied(key)) {
        p.put(key, value);
      }
    });
    Object clientId = consumer.get(CommonClientConfigs.CLIENT_ID_CONFIG);
    if (clientId != null && !String.valueOf(clientId).isEmpty()) {
      p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-dlt");
    }
    // the dead-letter contract: acknowledged by every in-sync replica, once, within the timeout
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis());
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(timeout.toMillis(), 1_000));
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    p.putAll(user);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return Collections.unmodifiableMap(p);
  }
}
