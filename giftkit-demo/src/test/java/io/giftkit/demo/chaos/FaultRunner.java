package io.giftkit.demo.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Injects the planned faults one after another on its own thread: waits for each one's instant
 * (a schedule, not a synchronisation), injects it, keeps the component down for the planned time,
 * then restarts or resumes it and waits until it is ready again. A restart that fails is a harness
 * error: the run stops and reports it.
 */
final class FaultRunner {

  private final ChaosCluster cluster;
  private final List<FaultPlan.Planned> plan;
  private final Log log;
  private final List<FaultWindow> windows = new ArrayList<>();
  private long zero;

  FaultRunner(ChaosCluster cluster, List<FaultPlan.Planned> plan, Log log) {
    this.cluster = cluster;
    this.plan = plan;
    this.log = log;
  }

  /** Runs the plan; the future completes when the last fault has recovered, exceptionally on a harness error. */
  CompletableFuture<List<FaultWindow>> start(long zeroNanos) {
    zero = zeroNanos;
    CompletableFuture<List<FaultWindow>> done = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        for (FaultPlan.Planned p : plan) {
          inject(p);
        }
        done.complete(windows());
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    }, "chaos-faults");
    t.setDaemon(true);
    t.start();
    return done;
  }

  synchronized List<FaultWindow> windows() {
    return List.copyOf(windows);
  }

  private double now() {
    return (System.nanoTime() - zero) / 1e9;
  }

  private void waitUntil(double second) throws InterruptedException {
    double wait = second - now();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep((long) (wait * 1e9)); // a fault-schedule instant
    }
  }

  private void inject(FaultPlan.Planned p) throws Exception {
    String note = now() > p.startSecond() + 0.5
        ? String.format(java.util.Locale.ROOT, "planned at %.1f s, started late (previous recovery)", p.startSecond())
        : "";
    waitUntil(p.startSecond());
    double start = now();
    log.line("FAULT %s: %s (down for %.1f s)", p.label(), p.kind().description, p.downSeconds());
    Runnable restart;
    switch (p.kind()) {
      case KAFKA_KILL -> {
        cluster.kafka.kill();
        restart = () -> cluster.kafka.start(Duration.ofSeconds(90));
      }
      case SHARD9_KILL -> {
        cluster.shard9.kill();
        restart = () -> cluster.shard9.start(Duration.ofSeconds(90));
      }
      case APP_KILL -> {
        AppInstance app = cluster.apps.get(p.instance());
        app.process().kill();
        restart = () -> {
          app.start();
          app.awaitReady();
        };
      }
      case REDIS_STOP -> {
        cluster.redis.process().suspend();
        restart = () -> {
          cluster.redis.process().resume();
          cluster.redis.process().awaitReady(Duration.ofSeconds(30), cluster.redis::ping);
        };
      }
      case REDIS_KILL -> {
        cluster.redis.kill();
        restart = () -> cluster.redis.start(Duration.ofSeconds(30));
      }
      default -> throw new IllegalStateException(p.kind().toString());
    }
    waitUntil(start + p.downSeconds());
    double restarted = now();
    log.line("FAULT %s: restarting/resuming", p.label());
    restart.run();
    double end = now();
    log.line("FAULT %s: recovered (window %.1f–%.1f s, restart took %.1f s)", p.label(), start, end, end - restarted);
    synchronized (this) {
      windows.add(new FaultWindow(p.label(), p.kind().description, start, restarted, end, note));
    }
  }
}
