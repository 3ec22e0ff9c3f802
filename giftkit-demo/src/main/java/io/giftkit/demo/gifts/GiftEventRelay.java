package io.giftkit.demo.gifts;

import io.giftkit.core.Site;
import io.giftkit.mq.SiteStampingInterceptor;
import io.giftkit.mq.outbox.Outbox;
import io.giftkit.mq.outbox.OutboxRelay;
import io.giftkit.shard.ShardDataSources;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The gift events' transactional outbox: a {@code giftkit_outbox} table in every shard, written in
 * the transaction that marks an order PAID, and one relay publishing every shard's rows to the gift
 * topic (acks=all, idempotent producer, the origin site stamped), deleting each row once the broker
 * acknowledged it. At least once; settlement deduplicates by order id.
 */
@Configuration(proxyBeanMethods = false)
public class GiftEventRelay {

  /**
   * @param shard a shard
   * @return the relay's name for the shard's outbox
   */
  public static String source(int shard) {
    return "shard-" + shard;
  }

  /**
   * The gift events' producer settings (the relay adds acks=all and idempotence itself): bounded
   * waits, the origin site stamped on every record.
   *
   * @param clients Boot's Kafka connection settings ({@code spring.kafka.*}: servers, security, SSL, SASL)
   * @param site this site
   * @return a new, mutable map
   */
  static Map<String, Object> producerConfig(io.giftkit.boot.mq.GiftkitKafkaClients clients, Site site) {
    Map<String, Object> producer = new HashMap<>(clients.producerConnection());
    producer.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    producer.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    producer.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
    producer.put(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, SiteStampingInterceptor.class.getName());
    producer.put(SiteStampingInterceptor.SITE_CONFIG, site.name());
    return producer;
  }

  @Bean
  Outbox giftOutbox() {
    return Outbox.builder().build();
  }

  @Bean(destroyMethod = "close")
  OutboxRelay giftEventOutboxRelay(Outbox outbox, ShardDataSources shards, DemoSchema schema, Site site,
      io.giftkit.boot.mq.GiftkitKafkaClients clients) {
    OutboxRelay.Builder b = OutboxRelay.builder("gift-events", outbox).producerConfig(producerConfig(clients, site));
    for (int s = 0; s < shards.shards(); s++) {
      b.source(source(s), shards.primaryView(s));
    }
    OutboxRelay relay = b.build();
    relay.start();
    return relay;
  }
}
