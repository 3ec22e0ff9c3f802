package io.giftkit.mq;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Hears the Kafka clients a {@link GiftkitConsumer} creates and closes: one consumer per poll loop
 * (and a new one each time the supervisor restarts a loop) and its dead-letter producer. For binding
 * the clients' own metrics, e.g. Micrometer's {@code KafkaClientMetrics} (the Spring Boot starter does
 * this), or for tracing. Calls come from the consumer's threads; a listener that throws is logged and
 * never breaks the consumer. Use the clients only to read their metrics: polling, committing or
 * closing them belongs to GiftKit.
 *
 * <pre>{@code
 * .clientListener(new KafkaClientListener() {
 *   public void consumerCreated(String name, Consumer<?, ?> c) { metrics.put(c, bind(c)); }
 *   public void consumerClosed(String name, Consumer<?, ?> c) { metrics.remove(c).close(); }
 * })
 * }</pre>
 */
public interface KafkaClientListener {

  /**
   * A poll loop's Kafka consumer was created (before it subscribes).
   *
   * @param name the GiftKit consumer's name
   * @param consumer the Kafka consumer
   */
  default void consumerCreated(String name, Consumer<?, ?> consumer) {}

  /**
   * A poll loop's Kafka consumer was closed.
   *
   * @param name the GiftKit consumer's name
   * @param consumer the Kafka consumer
   */
  default void consumerClosed(String name, Consumer<?, ?> consumer) {}

  /**
   * The dead-letter (and retry-topic) producer was created, at {@link GiftkitConsumer#start()}.
   *
   * @param name the GiftKit consumer's name
   * @param producer the producer
   */
  default void producerCreated(String name, Producer<?, ?> producer) {}

  /**
   * The dead-letter producer was closed, after the last poll loop ended.
   *
   * @param name the GiftKit consumer's name
   * @param producer the producer
   */
  default void producerClosed(String name, Producer<?, ?> producer) {}
}
