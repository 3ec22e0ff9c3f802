package io.giftkit.demo.timeline;

import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.PartitionLag;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * The dashboard's time series: once a second, the sends and send errors of that second, the send
 * p99, each breaker's state and the settlement lag, kept for the last five minutes. Thread-safe;
 * {@link #send} is called on every request thread (an HdrHistogram {@link Recorder}: no lock).
 */
@Component
public class Timeline implements DisposableBean {

  /** Seconds kept. */
  static final int KEEP = 300;

  private final BreakerRegistry breakers;
  private final GiftkitConsumers consumers;
  private final Recorder sendLatency = new Recorder(3);
  private final LongAdder sends = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final ArrayDeque<Map<String, Object>> points = new ArrayDeque<>();
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "giftkit-demo-timeline");
    t.setDaemon(true);
    return t;
  });
  private Histogram recycled;

  public Timeline(BreakerRegistry breakers, GiftkitConsumers consumers) {
    this.breakers = breakers;
    this.consumers = consumers;
    sampler.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
  }

  /**
   * Records one send.
   *
   * @param nanos how long it took
   * @param failed whether it failed (a 5xx)
   */
  public void send(long nanos, boolean failed) {
    sends.increment();
    if (failed) {
      errors.increment();
    }
    sendLatency.recordValue(Math.max(1, nanos / 1_000));
  }

  private void sample() {
    try {
      sampleOnce();
    } catch (RuntimeException e) { // one bad sample must not stop the series (scheduleAtFixedRate would)
      org.slf4j.LoggerFactory.getLogger(Timeline.class).debug("timeline sample failed", e);
    }
  }

  private void sampleOnce() {
    Histogram h = sendLatency.getIntervalHistogram(recycled);
    recycled = h;
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("t", System.currentTimeMillis() / 1000);
    p.put("sends", sends.sumThenReset());
    p.put("errors", errors.sumThenReset());
    p.put("sendP99Ms", h.getTotalCount() == 0 ? null : Math.round(h.getValueAtPercentile(99) / 100.0) / 10.0);
    Map<String, String> states = new LinkedHashMap<>();
    for (BreakerSnapshot s : breakers.snapshots()) {
      states.put(s.name(), s.state().name());
    }
    p.put("breakers", states);
    long lag = 0;
    for (GiftkitConsumer<?, ?> c : consumers.all()) {
      lag += c.lag().stream().mapToLong(PartitionLag::lag).sum();
    }
    p.put("lag", lag);
    synchronized (points) {
      points.addLast(p);
      while (points.size() > KEEP) {
        points.removeFirst();
      }
    }
  }

  /** @return the points, oldest first, one per second */
  public List<Map<String, Object>> points() {
    synchronized (points) {
      return new ArrayList<>(points);
    }
  }

  @Override
  public void destroy() {
    sampler.shutdownNow();
  }
}
