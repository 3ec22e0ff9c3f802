package io.giftkit.mq;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * What a consumer's poll loops need from its builder, resolved once: immutable, shared by the loops.
 *
 * @param name names threads and log lines
 * @param topics the subscribed topics
 * @param consumerConfig the Kafka consumer's settings (byte-array deserializers, no auto-commit)
 * @param dispatch the handler, decorated by its form ({@link HandlerForms})
 * @param batch whether the handler takes a partition's run of records at once
 * @param maxProcessingNanos the bound on one handler call
 * @param pollBudgetNanos no handler call starts after this much of a poll's batch
 * @param ticker the time source for deadlines, back-offs and lag periods
 * @param retryTopics where failed records go with retry topics; null: retried in place
 */
record ConsumerSettings<K, V>(String name, List<String> topics, Map<String, Object> consumerConfig,
    Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer, Dispatch<K, V> dispatch, boolean batch,
    int concurrency, RetryPolicy retryPolicy, long maxProcessingNanos, long pollBudgetNanos, SiteFilter siteFilter,
    LagMonitor.Thresholds lagThresholds, Listeners<LagListener> lagListeners, Ticker ticker,
    RetryTopicRouter retryTopics, boolean syncCommits) {}
