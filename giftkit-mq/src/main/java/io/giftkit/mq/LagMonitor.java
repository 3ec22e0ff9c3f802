package io.giftkit.mq;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per partition of one poll loop: the lag (records not yet handled: the partition's end offset, from
 * the position and the consumer's cached lag, minus the next offset to handle) and the age of the
 * oldest record not yet handled. Publishes them to the consumer's shared view ({@link
 * GiftkitConsumer#lag()}) and fires a {@link LagListener} when either stays above its threshold for
 * the sustained period, and when it recovers.
 *
 * <p>How long a partition has been over is measured with the injected {@link Ticker}; a record's age
 * with the wall clock (record timestamps are wall-clock time). The tracking is for one poll loop's
 * thread only; the view it writes is a concurrent map read from any thread.
 */
final class LagMonitor {

  /** When a partition is behind. */
  record Thresholds(long maxLag, long maxAgeMillis, long sustainNanos) {}

  /** Lag bookkeeping of one partition. */
  private static final class Track {
    long next = -1; // the next offset to handle
    long end = -1; // the partition's end offset, as last seen
    long headTimestamp = -1; // the timestamp of the record in hand, while one is
    long overSince = -1;
    boolean alerting;
  }

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final String name;
  private final Thresholds thresholds;
  private final Listeners<LagListener> listeners;
  private final LongAdder alerts;
  private final Map<TopicPartition, PartitionLag> view;
  private final Ticker ticker;
  private final Map<TopicPartition, Track> tracks = new HashMap<>();

  LagMonitor(String name, Thresholds thresholds, Listeners<LagListener> listeners, LongAdder alerts,
      Map<TopicPartition, PartitionLag> view, Ticker ticker) {
    this.name = name;
    this.thresholds = thresholds;
    this.listeners = listeners;
    this.alerts = alerts;
    this.view = view;
    this.ticker = ticker;
  }

  /** Learns each polled partition's end offset (position + the consumer's cached lag). */
  void observePoll(Consumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> records) {
    for (TopicPartition tp : consumer.assignment()) {
      List<ConsumerRecord<byte[], byte[]>> got = records.records(tp);
      Track t = tracks.get(tp);
      long fetched;
      if (!got.isEmpty()) {
        if (t == null) {
          t = new Track();
          tracks.put(tp, t);
        }
        if (t.next < 0) {
          t.next = got.get(0).offset();
        }
        fetched = got.get(got.size() - 1).offset() + 1;
      } else if (t != null && t.next >= 0) {
        fetched = t.next; // the position: past everything handled, or sought back to the record being retried
      } else {
        continue;
      }
      OptionalLong lag = consumer.currentLag(tp);
      t.end = Math.max(t.end, lag.isPresent() ? fetched + lag.getAsLong() : fetched);
    }
  }

  /** The handler is about to get records of {@code tp} starting with {@code first}. */
  void handling(TopicPartition tp, ConsumerRecord<?, ?> first) {
    Track t = tracks.computeIfAbsent(tp, k -> new Track());
    t.headTimestamp = first.timestamp();
    if (t.next < 0) {
      t.next = first.offset();
    }
  }

  /** Everything of {@code tp} before {@code next} is done. */
  void done(TopicPartition tp, long next) {
    Track t = tracks.computeIfAbsent(tp, k -> new Track());
    t.next = next;
    t.headTimestamp = -1;
  }

  /** Publishes each partition's lag and fires alerts and recoveries. */
  void check() {
    if (tracks.isEmpty()) {
      return;
    }
    long nowNanos = ticker.read();
    long nowMillis = System.currentTimeMillis();
    for (Map.Entry<TopicPartition, Track> e : tracks.entrySet()) {
      TopicPartition tp = e.getKey();
      Track t = e.getValue();
      long lag = t.next < 0 || t.end < 0 ? 0 : Math.max(0, t.end - t.next);
      long age = lag > 0 && t.headTimestamp >= 0 ? Math.max(0, nowMillis - t.headTimestamp) : 0;
      boolean over = lag > thresholds.maxLag() || age > thresholds.maxAgeMillis();
      if (over && t.overSince < 0) {
        t.overSince = nowNanos;
      } else if (!over) {
        t.overSince = -1;
      }
      boolean fire = false;
      if (over && !t.alerting && nowNanos - t.overSince >= thresholds.sustainNanos()) {
        t.alerting = true;
        fire = true;
      } else if (!over && t.alerting) {
        t.alerting = false;
        fire = true;
      }
      PartitionLag current = new PartitionLag(tp.topic(), tp.partition(), lag, age, t.alerting);
      view.put(tp, current);
      if (fire && current.alerting()) {
        alerts.increment();
        LOG.warn("GiftKit consumer '{}': {} is behind: lag {} (threshold {}), oldest record {} ms old (threshold {})",
            name, tp, lag, thresholds.maxLag(), age, thresholds.maxAgeMillis());
        listeners.fire(l -> l.onLagAlert(current));
      } else if (fire) {
        LOG.info("GiftKit consumer '{}': {} caught up: lag {}, oldest record {} ms old", name, tp, lag, age);
        listeners.fire(l -> l.onLagRecovered(current));
      }
    }
  }

  /** The partitions were revoked or lost: no longer tracked, no longer in the view. */
  void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      tracks.remove(tp);
      view.remove(tp);
    }
  }
}
