package io.giftkit.demo.gifts;

import io.giftkit.cache.ValueCodec;
import io.giftkit.core.Site;
import io.giftkit.mq.SiteStampingInterceptor;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Publishes gift events directly ({@link GiftEventFormat}, key = order id) with the origin site stamped by
 * {@link SiteStampingInterceptor}, waiting for the broker's acknowledgement: the scenario's
 * duplicated and poison events and the tests. Paid orders' events do not come this way: they go
 * through each shard's outbox ({@link GiftEventRelay}), written with the order.
 */
@Component
public class GiftEventPublisher implements DisposableBean {

  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final ValueCodec<GiftEvent> events;
  private final LongAdder published = new LongAdder();

  public GiftEventPublisher(io.giftkit.boot.mq.GiftkitKafkaClients clients,
      @Value("${giftkit.demo.gift-topic:gift-events}") String topic, Site site, KafkaTopics topics,
      ValueCodec<GiftEvent> events) {
    Map<String, Object> c = new HashMap<>();
    c.putAll(GiftEventRelay.producerConfig(clients, site));
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    this.producer = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    this.topic = topic;
    this.events = events;
  }

  /**
   * @param e the event
   * @throws IllegalStateException if the broker did not acknowledge it in time
   */
  public void publish(GiftEvent e) {
    send(Long.toString(e.orderId()), events.encode(e));
  }

  /**
   * Sends raw bytes under a key (the scenario's duplicate and poison events).
   *
   * @param key the key
   * @param value the bytes
   */
  public void send(String key, byte[] value) {
    try {
      producer.send(new ProducerRecord<>(topic, key, value)).get(10, TimeUnit.SECONDS);
      published.increment();
    } catch (Exception ex) {
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("publishing to " + topic + " failed: " + ex, ex);
    }
  }

  /** @return events published */
  public long published() {
    return published.sum();
  }

  /** @return the topic */
  public String topic() {
    return topic;
  }

  @Override
  public void destroy() {
    producer.close(java.time.Duration.ofSeconds(5));
  }
}
