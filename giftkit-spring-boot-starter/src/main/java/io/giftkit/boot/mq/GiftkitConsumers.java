package io.giftkit.boot.mq;

import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.LagListener;
import io.giftkit.mq.RetryTopics;
import io.giftkit.mq.SiteFilter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.springframework.context.SmartLifecycle;

/**
 * Makes {@link GiftkitConsumer}s from {@code giftkit.mq.*} and Boot's {@code spring.kafka.*}
 * connection settings, and runs them with the application: started when the context starts (or at
 * once if it already has), closed (finishing the records in hand, committing) when it stops.
 *
 * <pre>{@code
 * @Bean
 * GiftkitConsumer<String, GiftEvent> settlement(GiftkitConsumers consumers, DataSource db, JdbcIdempotencyStore store) {
 *   return consumers.create("settlement", b -> b
 *       .deserializers(new StringDeserializer(), new GiftEventDeserializer())
 *       .transactionalBatchHandler(db, store, r -> r.value().orderId(), ledger::applyAll));
 * }
 * }</pre>
 *
 * <p>What the properties set (group, topics, concurrency, retries, retry topics, max processing time, dead-letter
 * suffix, site filter, lag thresholds, extra Kafka properties) is applied before {@code customize},
 * so code can still override it. Bad values fail with the property named. Thread-safe.
 */
public final class GiftkitConsumers implements SmartLifecycle {

  private final GiftkitMqProperties properties;
  private final GiftkitKafkaClients clients;
  private final Site site;
  private final List<LagListener> lagListeners;
  private final List<GiftkitConsumerCustomizer> customizers;
  private final List<GiftkitConsumer<?, ?>> consumers = new CopyOnWriteArrayList<>();
  private final List<java.util.function.Consumer<GiftkitConsumer<?, ?>>> creationListeners = new CopyOnWriteArrayList<>();
  private volatile boolean running;

  /**
   * @param properties {@code giftkit.mq.*}
   * @param clients the Kafka client settings every consumer and dead-letter producer starts from
   * @param site the local site, or null
   * @param lagListeners hear every consumer's lag alerts
   * @param customizers applied to every builder after the properties, in order
   */
  public GiftkitConsumers(GiftkitMqProperties properties, GiftkitKafkaClients clients, Site site,
      List<LagListener> lagListeners, List<GiftkitConsumerCustomizer> customizers) {
    this.properties = properties;
    this.clients = clients;
    this.site = site;
    this.lagListeners = List.copyOf(lagListeners);
    this.customizers = List.copyOf(customizers);
  }

  /**
   * Builds a consumer from {@code giftkit.mq.consumers.<name>} (over {@code giftkit.mq.defaults}),
   * lets {@code customize} add the deserializers and the handler, and runs it with the application.
   *
   * @param <K> the key type
   * @param <V> the value type
   * @param name the consumer's name (its properties' key)
   * @param customize adds what properties cannot: deserializers, handler, and any override
   * @return the consumer, started if the application is running
   * @throws GiftkitPropertyException naming the property when a setting is invalid
   */
  public <K, V> GiftkitConsumer<K, V> create(String name, UnaryOperator<GiftkitConsumer.Builder<K, V>> customize) {
    String prefix = "giftkit.mq.consumers." + name;
    if (!clients.hasBootstrapServers()) {
      throw GiftkitPropertyException.of("giftkit.mq", io.giftkit.core.Checks.invalid("bootstrapServers",
          "must be set (or spring.kafka.bootstrap-servers) to make consumer '" + name + "'", "none"));
    }
    if (properties.getSiteFilter() == GiftkitMqProperties.SiteFilterMode.LOCAL_ONLY && site == null) {
      throw GiftkitPropertyException.of("giftkit.mq", io.giftkit.core.Checks.invalid("siteFilter",
          "needs giftkit.site to be set", "LOCAL_ONLY"));
    }
    ConsumerSettings own = properties.getConsumers().getOrDefault(name, new ConsumerSettings());
    ConsumerSettings defaults = properties.getDefaults();
    GiftkitConsumer.Builder<K, V> builder;
    try {
      builder = configure(GiftkitConsumer.builder(name), name, own, defaults);
      for (GiftkitConsumerCustomizer c : customizers) {
        c.customize(name, builder);
      }
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
    GiftkitConsumer<K, V> consumer;
    try {
      consumer = customize.apply(builder).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(prefix, e);
    }
    consumers.add(consumer);
    creationListeners.forEach(l -> l.accept(consumer));
    if (running) {
      consumer.start();
    }
    return consumer;
  }

  private <K, V> GiftkitConsumer.Builder<K, V> configure(GiftkitConsumer.Builder<K, V> b, String name,
      ConsumerSettings own, ConsumerSettings defaults) {
    Map<String, Object> kafka = new HashMap<>(clients.consumer()); // spring.kafka.* (consumer)
    kafka.putAll(defaults.getProperties());
    kafka.putAll(own.getProperties());
    b.deadLetterProducerConfig(clients.producerConnection()); // spring.kafka.* (producer): SSL bundles too
    kafka.put("group.id", pick(own.getGroupId(), defaults.getGroupId(), name));
    b.kafka(kafka);
    List<String> topics = own.getTopics().isEmpty() ? defaults.getTopics() : own.getTopics();
    b.topics(topics.toArray(String[]::new));
    b.deadLetterSuffix(properties.getDeadLetterSuffix());
    Integer concurrency = pick(own.getConcurrency(), defaults.getConcurrency(), null);
    if (concurrency != null) {
      b.concurrency(concurrency);
    }
    Integer attempts = pick(own.getMaxAttempts(), defaults.getMaxAttempts(), null);
    Duration backoff = pick(own.getBackoff(), defaults.getBackoff(), null);
    if (attempts != null || backoff != null) {
      b.retries(attempts == null ? GiftkitConsumer.DEFAULT_MAX_ATTEMPTS : attempts,
          backoff == null ? GiftkitConsumer.DEFAULT_BACKOFF : backoff);
    }
    boolean ownDelays = !own.getRetryTopics().isEmpty();
    List<Duration> delays = ownDelays ? own.getRetryTopics() : defaults.getRetryTopics();
    if (!delays.isEmpty()) {
      b.retryTopics(retryTopics(ownDelays ? "giftkit.mq.consumers." + name : "giftkit.mq.defaults", delays));
    }
    Boolean syncCommits = pick(own.getSyncCommits(), defaults.getSyncCommits(), null);
    if (syncCommits != null) {
      b.syncCommits(syncCommits);
    }
    Duration maxProcessing = pick(own.getMaxProcessingTime(), defaults.getMaxProcessingTime(), null);
    if (maxProcessing != null) {
      b.maxProcessingTime(maxProcessing);
    }
    if (properties.getSiteFilter() == GiftkitMqProperties.SiteFilterMode.LOCAL_ONLY) {
      b.siteFilter(SiteFilter.localOnly(site).untagged(properties.isUntaggedIsLocal()));
    }
    Long lag = pick(own.getMaxLag(), defaults.getMaxLag(), null);
    Duration age = pick(own.getMaxRecordAge(), defaults.getMaxRecordAge(), null);
    if (lag != null || age != null) {
      Duration sustained = pick(own.getSustainedFor(), defaults.getSustainedFor(), Duration.ofSeconds(30));
      LagListener fanOut = new LagListener() {
        @Override
        public void onLagAlert(io.giftkit.mq.PartitionLag l) {
          lagListeners.forEach(x -> x.onLagAlert(l));
        }

        @Override
        public void onLagRecovered(io.giftkit.mq.PartitionLag l) {
          lagListeners.forEach(x -> x.onLagRecovered(l));
        }
      };
      b.lagAlert(lag == null ? Long.MAX_VALUE : lag, age == null ? Duration.ofMillis(Long.MAX_VALUE) : age,
          sustained, fanOut);
    }
    return b;
  }

  /** @throws GiftkitPropertyException naming {@code <prefix>.retry-topics[i]} for a bad delay */
  private static RetryTopics retryTopics(String prefix, List<Duration> delays) {
    try {
      return RetryTopics.delays(delays.toArray(Duration[]::new));
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.invalid(prefix + e.parameter().replace("retryTopics.delays", ".retry-topics"),
          e.rule(), e.value());
    }
  }

  private static <T> T pick(T own, T defaults, T fallback) {
    return own != null ? own : defaults != null ? defaults : fallback;
  }

  /** @param listener hears every consumer made from now on (metrics bind this way) */
  public void onCreate(java.util.function.Consumer<GiftkitConsumer<?, ?>> listener) {
    creationListeners.add(listener);
  }

  /** @return every consumer made here */
  public List<GiftkitConsumer<?, ?>> all() {
    return List.copyOf(consumers);
  }

  @Override
  public void start() {
    running = true;
    for (GiftkitConsumer<?, ?> c : consumers) {
      if (c.state() == GiftkitConsumer.State.NEW) {
        c.start();
      }
    }
  }

  @Override
  public void stop() {
    running = false;
    consumers.forEach(GiftkitConsumer::close);
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
