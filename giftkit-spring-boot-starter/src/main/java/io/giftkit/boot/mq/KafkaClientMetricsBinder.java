package io.giftkit.boot.mq;

import io.giftkit.mq.KafkaClientListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Binds Micrometer's {@link KafkaClientMetrics} to each Kafka client a GiftKit consumer creates, and
 * closes the binding (its meters leave the registry) when the client is closed: a restarted poll
 * loop's new consumer gets fresh meters, the dead one's go.
 */
final class KafkaClientMetricsBinder implements KafkaClientListener {

  private final MeterRegistry registry;
  private final Map<Object, KafkaClientMetrics> bound = new ConcurrentHashMap<>();

  KafkaClientMetricsBinder(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void consumerCreated(String name, Consumer<?, ?> consumer) {
    bind(consumer, new KafkaClientMetrics(consumer, Tags.of("name", name)));
  }

  @Override
  public void consumerClosed(String name, Consumer<?, ?> consumer) {
    release(consumer);
  }

  @Override
  public void producerCreated(String name, Producer<?, ?> producer) {
    bind(producer, new KafkaClientMetrics(producer, Tags.of("name", name)));
  }

  @Override
  public void producerClosed(String name, Producer<?, ?> producer) {
    release(producer);
  }

  private void bind(Object client, KafkaClientMetrics metrics) {
    metrics.bindTo(registry);
    bound.put(client, metrics);
  }

  private void release(Object client) {
    KafkaClientMetrics metrics = bound.remove(client);
    if (metrics != null) {
      metrics.close();
    }
  }
}
