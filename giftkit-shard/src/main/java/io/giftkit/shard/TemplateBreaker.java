package io.giftkit.shard;

import io.giftkit.core.Ticker;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The slow-call-rate breaker of one (statement template, shard): CLOSED counts calls in a
 * {@link SlowCallWindow} and opens when the window holds at least {@code minimumCalls} and the
 * slow ones reach the threshold; OPEN refuses until the cooldown has passed; HALF_OPEN lets
 * {@code halfOpenProbes} calls through, re-opens on a slow one and closes after enough fast ones.
 *
 * <p>The state is an {@link AtomicReference} to an immutable {@link Phase}; every change is a
 * compare-and-set from the phase it was judged on, and only the thread whose compare-and-set
 * succeeded reports the transition, so each transition is reported exactly once. Every permit
 * carries the generation of the phase that issued it; outcomes of permits of an earlier phase are
 * ignored. Thread-safe and lock-free (the window takes its monitor once per bucket period).
 */
final class TemplateBreaker {

  /** Reports transitions; the registry routes them to the listeners and the log. */
  interface Transitions {
    /**
     * @param generation the new phase's generation: each transition has its own, one above the last
     */
    void changed(TemplateBreaker breaker, SlowSqlBreakerState from, SlowSqlBreakerState to, double slowCallRate,
        long generation);
  }

  private final String template;
  private final int shard;
  private final SlowSqlBreakerConfig config;
  private final long openNanos;
  private final Ticker ticker;
  private final Transitions transitions;
  private final SlowCallWindow window;
  private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.closed(0));
  private final LongAdder rejections = new LongAdder();
  /** Set when a slow call was judged before the window held minimumCalls: fast calls judge until it does. */
  private volatile boolean judgementPending;

  TemplateBreaker(String template, int shard, SlowSqlBreakerConfig config, Ticker ticker, Transitions transitions) {
    this.template = template;
    this.shard = shard;
    this.config = config;
    this.openNanos = config.openDuration().toNanos();
    this.ticker = ticker;
    this.transitions = transitions;
    this.window = new SlowCallWindow(config.window().toNanos(), SlowSqlBreakerConfig.WINDOW_BUCKETS);
  }

  String template() {
    return template;
  }

  int shard() {
    return shard;
  }

  SlowSqlBreakerState state() {
    return phase.get().state;
  }

  long rejections() {
    return rejections.sum();
  }

  /**
   * @param slowNanos what counts as slow (a probe out longer than this is slow)
   * @return a permit for {@link #record}
   * @throws SlowSqlRejectedException if the call must not run
   */
  long acquire(long slowNanos) {
    Phase p = phase.get();
    if (p.state == SlowSqlBreakerState.CLOSED) {
      return p.generation;
    }
    return acquireNotClosed(p, slowNanos);
  }

  private long acquireNotClosed(Phase p, long slowNanos) {
    for (;;) {
      long now = ticker.read();
      switch (p.state) {
        case CLOSED:
          return p.generation;
        case OPEN:
          if (now - p.openUntil < 0) {
            throw reject(p, now);
          }
          if (phase.compareAndSet(p, Phase.halfOpen(p.generation + 1, p.rate))) {
            transitions.changed(this, SlowSqlBreakerState.OPEN, SlowSqlBreakerState.HALF_OPEN, p.rate, p.generation + 1);
          }
          break;
        default: // HALF_OPEN
          if (p.probesTaken < config.halfOpenProbes()) {
            if (phase.compareAndSet(p, p.probeTaken(now))) {
              return p.generation;
            }
          } else if (p.fastProbes < p.probesTaken && now - p.lastProbeAt >= slowNanos) {
            // a probe is still out, taken at least slowThreshold ago: it is slow, whatever it does next
            double rate = 100.0 / (p.fastProbes + 1);
            if (phase.compareAndSet(p, Phase.open(p.generation + 1, now + openNanos, rate))) {
              transitions.changed(this, SlowSqlBreakerState.HALF_OPEN, SlowSqlBreakerState.OPEN, rate, p.generation + 1);
            }
          } else {
            throw reject(p, now);
          }
          break;
      }
      p = phase.get();
    }
  }

  private SlowSqlRejectedException reject(Phase p, long now) {
    rejections.increment();
    long left = p.state == SlowSqlBreakerState.OPEN ? Math.max(0, p.openUntil - now) : 0;
    return SlowSqlRejectedException.of(template, shard, p.state, p.rate, left, config.halfOpenProbes());
  }

  /**
   * Records the outcome of a call that ran.
   *
   * @param permit what {@link #acquire} returned
   * @param slow whether it took at least the slow threshold
   */
  void record(long permit, boolean slow) {
    Phase p = phase.get();
    if (permit != p.generation) {
      return; // admitted by an earlier phase: a late answer moves nothing
    }
    long now = ticker.read();
    if (p.state == SlowSqlBreakerState.CLOSED) {
      window.record(now, slow);
      if (slow || judgementPending) {
        judge(p, now);
      }
    } else if (p.state == SlowSqlBreakerState.HALF_OPEN) {
      judgeProbe(p, permit, slow, now);
    }
  }

  private void judge(Phase p, long now) {
    long calls = window.calls(now);
    if (calls < config.minimumCalls()) {
      judgementPending = true;
      return;
    }
    judgementPending = false;
    long slowCalls = window.slowCalls(now);
    if (slowCalls * 100.0 >= config.slowCallRateThreshold() * calls) {
      double rate = 100.0 * slowCalls / calls;
      if (phase.compareAndSet(p, Phase.open(p.generation + 1, now + openNanos, rate))) {
        window.reset(); // nothing records while not CLOSED: the next CLOSED phase starts empty
        transitions.changed(this, SlowSqlBreakerState.CLOSED, SlowSqlBreakerState.OPEN, rate, p.generation + 1);
      }
    }
  }

  private void judgeProbe(Phase p, long permit, boolean slow, long now) {
    while (p.state == SlowSqlBreakerState.HALF_OPEN && p.generation == permit) {
      if (slow) {
        double rate = 100.0 / (p.fastProbes + 1);
        if (phase.compareAndSet(p, Phase.open(p.generation + 1, now + openNanos, rate))) {
          transitions.changed(this, SlowSqlBreakerState.HALF_OPEN, SlowSqlBreakerState.OPEN, rate, p.generation + 1);
          return;
        }
      } else if (p.fastProbes + 1 >= config.halfOpenProbes()) {
        if (phase.compareAndSet(p, Phase.closed(p.generation + 1))) {
          judgementPending = false;
          transitions.changed(this, SlowSqlBreakerState.HALF_OPEN, SlowSqlBreakerState.CLOSED, 0, p.generation + 1);
          return;
        }
      } else if (phase.compareAndSet(p, p.fastProbe())) {
        return;
      }
      p = phase.get();
    }
  }

  /**
   * Closes the breaker with an empty window, whatever its state (an operator's override).
   *
   * @return whether it was OPEN or HALF_OPEN
   */
  boolean forceClose() {
    for (;;) {
      Phase p = phase.get();
      if (p.state == SlowSqlBreakerState.CLOSED) {
        return false;
      }
      if (phase.compareAndSet(p, Phase.closed(p.generation + 1))) {
        window.reset();
        judgementPending = false;
        transitions.changed(this, p.state, SlowSqlBreakerState.CLOSED, 0, p.generation + 1);
        return true;
      }
    }
  }

  SlowSqlBreakerSnapshot snapshot() {
    Phase p = phase.get();
    long left = p.state == SlowSqlBreakerState.OPEN ? Math.max(0, p.openUntil - ticker.read()) : 0;
    return new SlowSqlBreakerSnapshot(template, shard, p.state, p.rate, java.time.Duration.ofNanos(left),
        rejections.sum());
  }

  /** One immutable phase of the state machine. */
  private static final class Phase {
    final SlowSqlBreakerState state;
    final long generation;
    final long openUntil;
    final double rate;
    final int probesTaken;
    final int fastProbes;
    final long lastProbeAt;

    private Phase(SlowSqlBreakerState state, long generation, long openUntil, double rate, int probesTaken,
        int fastProbes, long lastProbeAt) {
      this.state = state;
      this.generation = generation;
      this.openUntil = openUntil;
      this.rate = rate;
      this.probesTaken = probesTaken;
      this.fastProbes = fastProbes;
      this.lastProbeAt = lastProbeAt;
    }

    static Phase closed(long generation) {
      return new Phase(SlowSqlBreakerState.CLOSED, generation, 0, 0, 0, 0, 0);
    }

    static Phase open(long generation, long until, double rate) {
      return new Phase(SlowSqlBreakerState.OPEN, generation, until, rate, 0, 0, 0);
    }

    static Phase halfOpen(long generation, double rate) {
      return new Phase(SlowSqlBreakerState.HALF_OPEN, generation, 0, rate, 0, 0, 0);
    }

    Phase probeTaken(long now) {
      return new Phase(state, generation, openUntil, rate, probesTaken + 1, fastProbes, now);
    }

    Phase fastProbe() {
      return new Phase(state, generation, openUntil, rate, probesTaken, fastProbes + 1, lastProbeAt);
    }
  }
}
