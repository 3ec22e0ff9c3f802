package io.giftkit.benchmarks.e2e;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One open-loop step: requests start at a fixed arrival rate whatever the server does (a request
 * due while the server is behind is sent anyway, up to {@code maxInFlight} open requests), and each
 * request's latency is measured from when it was <em>due</em>, not from when it was sent: a server
 * that stalls is charged for every request that waited, so coordinated omission cannot hide the
 * stall. Requests past {@code maxInFlight} are not sent and count as dropped (errors).
 */
final class OpenLoopRun {

  /** What one step measured, per kind. */
  record Result(double targetRate, double seconds, long due, long dropped, Map<GiftMix.Kind, Kind> kinds) {

    /** @return the rate that completed, per second */
    double completedRate() {
      long done = 0;
      for (Kind k : kinds.values()) {
        done += k.completed();
      }
      return done / seconds;
    }

    /** @return failed or dropped requests as a share of the due ones */
    double errorRatio() {
      long errors = dropped;
      for (Kind k : kinds.values()) {
        errors += k.errors();
      }
      return due == 0 ? 0 : (double) errors / due;
    }
  }

  /** One kind's latencies (from the due time, microseconds) and outcomes. */
  record Kind(Histogram latencyMicros, long completed, long errors) {
    long percentileMicros(double p) {
      return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(p);
    }
  }

  private final HttpClient http;
  private final Supplier<GiftMix.Request[]> mix;
  private final int maxInFlight;

  OpenLoopRun(HttpClient http, Supplier<GiftMix.Request[]> mix, int maxInFlight) {
    this.http = http;
    this.mix = mix;
    this.maxInFlight = maxInFlight;
  }

  /**
   * Fires at {@code rate} per second for {@code warmup} (not measured), then for {@code duration}
   * (measured), then waits up to 10 s for the measured requests still open.
   *
   * @param progress told once a second: seconds into the measured part (negative while warming up),
   *     requests open now, send p99 so far (ms)
   */
  Result run(double rate, Duration warmup, Duration duration, Progress progress) throws InterruptedException {
    Map<GiftMix.Kind, Recorder> latency = new EnumMap<>(GiftMix.Kind.class);
    Map<GiftMix.Kind, LongAdder> completed = new EnumMap<>(GiftMix.Kind.class);
    Map<GiftMix.Kind, LongAdder> errors = new EnumMap<>(GiftMix.Kind.class);
    for (GiftMix.Kind k : GiftMix.Kind.values()) {
      latency.put(k, new Recorder(3_600_000_000L, 3));
      completed.put(k, new LongAdder());
      errors.put(k, new LongAdder());
    }
    AtomicInteger inFlight = new AtomicInteger();
    long periodNanos = (long) (1e9 / rate);
    long start = System.nanoTime();
    long measureFrom = start + warmup.toNanos();
    long end = measureFrom + duration.toNanos();
    long due = 0;
    long dropped = 0;
    long nextProgress = start + TimeUnit.SECONDS.toNanos(1);
    Histogram sendSoFar = new Histogram(3_600_000_000L, 3);
    for (long i = 0; ; i++) {
      long intended = start + i * periodNanos;
      if (intended >= end) {
        break;
      }
      long now = System.nanoTime();
      if (intended > now) {
        LockSupport.parkNanos(intended - now);
      }
      boolean measured = intended >= measureFrom;
      for (GiftMix.Request request : mix.get()) {
        if (measured) {
          due++;
        }
        if (inFlight.get() >= maxInFlight) {
          if (measured) {
            dropped++;
          }
          continue;
        }
        inFlight.incrementAndGet();
        http.sendAsync(request.http(), HttpResponse.BodyHandlers.discarding()).whenComplete((resp, failure) -> {
          inFlight.decrementAndGet();
          if (!measured) {
            return;
          }
          long micros = Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - intended));
          latency.get(request.kind()).recordValue(Math.min(micros, 3_600_000_000L));
          if (failure != null || resp.statusCode() >= 400) {
            errors.get(request.kind()).increment();
          } else {
            completed.get(request.kind()).increment();
          }
        });
      }
      if (System.nanoTime() >= nextProgress) {
        nextProgress += TimeUnit.SECONDS.toNanos(1);
        if (intended >= measureFrom) {
          sendSoFar.add(latency.get(GiftMix.Kind.SEND).getIntervalHistogram());
        }
        progress.report(Math.floorDiv(intended - measureFrom, 1_000_000_000L), inFlight.get(),
            sendSoFar.getTotalCount() == 0 ? 0 : sendSoFar.getValueAtPercentile(99) / 1000.0);
      }
    }
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (inFlight.get() > 0 && System.nanoTime() < waitUntil) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    Map<GiftMix.Kind, Kind> kinds = new EnumMap<>(GiftMix.Kind.class);
    for (GiftMix.Kind k : GiftMix.Kind.values()) {
      Histogram h = latency.get(k).getIntervalHistogram();
      if (k == GiftMix.Kind.SEND) {
        h.add(sendSoFar); // the part already taken out for the progress line
      }
      kinds.put(k, new Kind(h, completed.get(k).sum(), errors.get(k).sum()));
    }
    // requests still open after the wait are counted as errors of an unknown kind: add them to sends
    int stillOpen = inFlight.get();
    if (stillOpen > 0) {
      Kind s = kinds.get(GiftMix.Kind.SEND);
      kinds.put(GiftMix.Kind.SEND, new Kind(s.latencyMicros(), s.completed(), s.errors() + stillOpen));
    }
    return new Result(rate, duration.toNanos() / 1e9, due, dropped, kinds);
  }

  /** Progress of a step, once a second. */
  @FunctionalInterface
  interface Progress {
    void report(long second, int inFlight, double sendP99Millis);
  }
}
