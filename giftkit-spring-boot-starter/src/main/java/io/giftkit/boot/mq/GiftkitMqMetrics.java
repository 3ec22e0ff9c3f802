package io.giftkit.boot.mq;

import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.PartitionLag;
import io.giftkit.mq.recheck.DelayedRecheck;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer meters for the consumers made by {@link GiftkitConsumers} and the {@link DelayedRecheck}
 * beans, tagged {@code name}:
 *
 * <ul>
 *   <li>{@code giftkit.mq.records} (counter, tag {@code outcome}: handled, duplicate, filtered,
 *       dead_lettered, retried, timed_out);
 *   <li>{@code giftkit.mq.lag} (gauge, records: the largest lag of the consumer's partitions) and
 *       {@code giftkit.mq.record.age} (gauge, ms: the oldest unhandled record's age), the numbers an
 *       autoscaler scales on; {@code giftkit.mq.lag.alerts} (counter); {@code giftkit.mq.restarts}
 *       (counter: poll loops the supervisor restarted after they died);
 *   <li>{@code giftkit.mq.partition.lag} and {@code giftkit.mq.partition.record.age} (gauges, tags
 *       {@code name}, {@code topic}, {@code partition}): per partition the consumer owns, the set
 *       refreshed every 5 s as partitions are assigned and revoked;
 *   <li>{@code giftkit.recheck.pending} (gauge: a count query per scrape) and
 *       {@code giftkit.recheck.checks} (counter, tag {@code outcome}: resolved, retried, alerted, failed).
 * </ul>
 */
public final class GiftkitMqMetrics implements MeterBinder, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitMqMetrics.class);

  private final GiftkitConsumers consumers;
  private final List<DelayedRecheck> rechecks;
  private final ScheduledExecutorService partitionRefresher =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "giftkit-mq-metrics");
        t.setDaemon(true);
        return t;
      });
  private volatile MultiGauge partitionLag;
  private volatile MultiGauge partitionAge;

  /**
   * @param consumers the consumers' factory (consumers made later are measured too, from the next bind)
   * @param rechecks the re-check schedulers
   */
  public GiftkitMqMetrics(GiftkitConsumers consumers, List<DelayedRecheck> rechecks) {
    this.consumers = consumers;
    this.rechecks = List.copyOf(rechecks);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    if (consumers != null) {
      consumers.all().forEach(c -> bind(registry, c));
      consumers.onCreate(c -> bind(registry, c));
    }
    rechecks.forEach(r -> bind(registry, r));
    if (consumers != null) {
      partitionLag = MultiGauge.builder("giftkit.mq.partition.lag").baseUnit("records")
          .description("records in the partition not yet handled").register(registry);
      partitionAge = MultiGauge.builder("giftkit.mq.partition.record.age")
          .baseUnit("seconds").description("age of the partition's oldest unhandled record").register(registry);
      partitionRefresher.scheduleWithFixedDelay(this::refreshPartitions, 0, 5, TimeUnit.SECONDS);
    }
  }

  /** Registers a gauge row per partition each consumer owns now, dropping revoked ones. */
  public void refreshPartitions() {
    MultiGauge lag = partitionLag;
    MultiGauge age = partitionAge;
    if (lag == null || consumers == null) {
      return;
    }
    List<MultiGauge.Row<?>> lagRows = new ArrayList<>();
    List<MultiGauge.Row<?>> ageRows = new ArrayList<>();
    for (GiftkitConsumer<?, ?> c : consumers.all()) {
      for (PartitionLag l : c.lag()) {
        Tags tags = Tags.of("name", c.name(), "topic", l.topic(), "partition", Integer.toString(l.partition()));
        lagRows.add(MultiGauge.Row.of(tags, c, x -> current(x, l, true)));
        ageRows.add(MultiGauge.Row.of(tags, c, x -> current(x, l, false)));
      }
    }
    lag.register(lagRows, true);
    age.register(ageRows, true);
  }

  private static double current(GiftkitConsumer<?, ?> c, PartitionLag of, boolean records) {
    for (PartitionLag l : c.lag()) {
      if (l.partition() == of.partition() && l.topic().equals(of.topic())) {
        return records ? l.lag() : l.recordAgeMillis() / 1000.0;
      }
    }
    return 0; // revoked since the last refresh (the row goes at the next one): nothing of it is unhandled here
  }

  @Override
  public void close() {
    partitionRefresher.shutdownNow();
  }

  private static void bind(MeterRegistry registry, GiftkitConsumer<?, ?> c) {
    Tags tags = Tags.of("name", c.name());
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "handled"), GiftkitConsumer::handled);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "duplicate"), GiftkitConsumer::duplicates);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "filtered"), GiftkitConsumer::filtered);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "dead_lettered"), GiftkitConsumer::deadLettered);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "retried"), GiftkitConsumer::retried);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "retry_topic"), GiftkitConsumer::retryTopicPublishes);
    counter(registry, "giftkit.mq.records", c, tags.and("outcome", "timed_out"), GiftkitConsumer::timeouts);
    counter(registry, "giftkit.mq.lag.alerts", c, tags, GiftkitConsumer::lagAlerts);
    counter(registry, "giftkit.mq.restarts", c, tags, GiftkitConsumer::restarts);
    gauge(registry, "giftkit.mq.lag", c, tags, x -> max(x.lag(), true), "records");
    gauge(registry, "giftkit.mq.record.age", c, tags, x -> max(x.lag(), false) / 1000.0, "seconds");
  }

  private static double max(List<PartitionLag> lags, boolean records) {
    long m = 0;
    for (PartitionLag l : lags) {
      m = Math.max(m, records ? l.lag() : l.recordAgeMillis());
    }
    return m;
  }

  private static void bind(MeterRegistry registry, DelayedRecheck r) {
    Tags tags = Tags.of("name", r.name());
    Gauge.builder("giftkit.recheck.pending", r, GiftkitMqMetrics::pending).tags(tags)
        .description("checks scheduled and not yet resolved or alerted").register(registry);
    counter(registry, "giftkit.recheck.checks", r, tags.and("outcome", "resolved"), DelayedRecheck::resolved);
    counter(registry, "giftkit.recheck.checks", r, tags.and("outcome", "retried"), DelayedRecheck::retried);
    counter(registry, "giftkit.recheck.checks", r, tags.and("outcome", "alerted"), DelayedRecheck::alerted);
    counter(registry, "giftkit.recheck.checks", r, tags.and("outcome", "failed"), DelayedRecheck::failures);
  }

  private static double pending(DelayedRecheck r) {
    try {
      return r.pending();
    } catch (SQLException e) {
      LOG.debug("re-check '{}': counting pending checks failed", r.name(), e);
      return Double.NaN;
    }
  }

  private static <T> void counter(MeterRegistry registry, String name, T source, Tags tags, ToLongFunction<T> f) {
    FunctionCounter.builder(name, source, x -> f.applyAsLong(x)).tags(tags).register(registry);
  }

  private static <T> void gauge(MeterRegistry registry, String name, T source, Tags tags, ToDoubleFunction<T> f,
      String unit) {
    Gauge.builder(name, source, f).tags(tags).baseUnit(unit).register(registry);
  }
}
