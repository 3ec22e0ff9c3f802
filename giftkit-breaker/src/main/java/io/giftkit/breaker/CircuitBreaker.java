package io.giftkit.breaker;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A failure-rate (and optionally slow-call-rate) circuit breaker over a time-based sliding window.
 * It runs calls on the caller's thread; {@link LatencyBreaker} adds the latency budget, the bounded
 * executor and the per-key last-good fallback on top of it.
 *
 * <pre>{@code
 * CircuitBreaker breaker = CircuitBreaker.of("room-info", BreakerConfig.ofDefaults());
 * Room room = breaker.execute(() -> roomService.get(roomId), () -> Room.UNKNOWN);
 * }</pre>
 *
 * <p>States: CLOSED lets every call through and records its outcome. When the window holds at
 * least {@code minimumCalls} calls and failures reach {@code failureRateThreshold} percent (or slow
 * calls reach {@code slowCallRateThreshold}), it opens. OPEN refuses calls for {@code openDuration}
 * (multiplied by {@code openBackoffMultiplier} on each consecutive trip, up to
 * {@code maxOpenDuration}), then the next call moves it to HALF_OPEN, which lets
 * {@code halfOpenProbes} calls through: if their failures reach the threshold it re-opens, else it
 * closes with a fresh window. Every permit carries the generation of the state that issued it, so
 * an outcome that arrives after the state moved on (a late answer) is ignored and can neither
 * close nor re-open the breaker. A probe that never returns is not a problem here as long as every
 * probe is bounded in time — {@link LatencyBreaker} bounds each by its budget and records a
 * timeout, so half-open always decides.
 *
 * <p>Thread-safe and lock-free. The closed path (permission, then outcome) reads one volatile
 * field, the ticker once, and increments one striped counter; it allocates nothing. Rates are
 * aggregated only when a failure or slow call is recorded, and on successes only while a failure
 * recorded before the window held {@code minimumCalls} still awaits judgement. Refusals allocate nothing either: the
 * fallback forms return the fallback, and the throwing form throws a preallocated exception.
 *
 * <p>Size: past the house limit of ~400 lines because the state machine, its immutable state objects
 * and the per-call recording stay together (the hot path updates them without locks); about 340 of
 * the lines are code, the rest javadoc.
 */
public final class CircuitBreaker {

  /** The breaker's state. */
  public enum State {
    /** Calls go through; outcomes are recorded. */
    CLOSED,
    /** Calls are refused until the open duration has passed. */
    OPEN,
    /** A limited number of probe calls go through; their outcomes decide. */
    HALF_OPEN
  }

  static final int CALLS = 0;
  static final int FAILURES = 1;
  static final int SLOW = 2;

  private final String name;
  private final Ticker ticker;
  private final Listeners<BreakerListener> listeners;
  private final AtomicReference<StateData> state;
  private final LongAdder[] outcomeTotals = new LongAdder[CallOutcome.values().length];
  private final CallNotPermittedException openRefusal;
  private final CallNotPermittedException halfOpenRefusal;
  private volatile Settings settings;
  /** Set when a failure was recorded before the window held minimumCalls: successes judge until it does. */
  private volatile boolean judgementPending;

  private CircuitBreaker(String name, BreakerConfig config, Ticker ticker, Listeners<BreakerListener> listeners) {
    this.name = name;
    this.ticker = ticker;
    this.listeners = listeners;
    this.settings = new Settings(config);
    this.state = new AtomicReference<>(StateData.closed(0));
    for (int i = 0; i < outcomeTotals.length; i++) {
      outcomeTotals[i] = new LongAdder();
    }
    this.openRefusal = CallNotPermittedException.of(name, State.OPEN);
    this.halfOpenRefusal = CallNotPermittedException.of(name, State.HALF_OPEN);
  }

  /**
   * Creates a breaker reading the system ticker.
   *
   * @param name names the breaker in logs, events and metrics; not blank
   * @param config the configuration
   * @return a closed breaker
   */
  public static CircuitBreaker of(String name, BreakerConfig config) {
    return of(name, config, Ticker.system());
  }

  /**
   * Creates a breaker reading the given ticker (tests pass a fake one).
   *
   * @param name names the breaker in logs, events and metrics; not blank
   * @param config the configuration
   * @param ticker the time source for windows and cooldowns
   * @return a closed breaker
   */
  public static CircuitBreaker of(String name, BreakerConfig config, Ticker ticker) {
    Checks.requireNonBlank("name", name);
    return new CircuitBreaker(name, Checks.requireNonNull("config", config), Checks.requireNonNull("ticker", ticker),
        Listeners.create("breaker '" + name + "'"));
  }

  /**
   * Asks to make a call. Returns a permit to pass to {@link #onSuccess} or {@link #onFailure}, or a
   * negative number if the call must not be made (then nothing needs recording).
   *
   * @return a permit (at least 0), or -1 when refused
   */
  public long tryAcquirePermission() {
    StateData s = state.get();
    if (s.state == State.CLOSED) {
      return s.generation;
    }
    return acquireNotClosed(s);
  }

  private long acquireNotClosed(StateData s) {
    for (;;) {
      switch (s.state) {
        case CLOSED:
          return s.generation;
        case OPEN:
          if (ticker.read() - s.openUntilNanos < 0) {
            refused();
            return -1;
          }
          StateData half = StateData.halfOpen(s.generation + 1, s.consecutiveTrips, settings.config.halfOpenProbes());
          if (state.compareAndSet(s, half)) {
            fireTransition(State.OPEN, State.HALF_OPEN);
          }
          s = state.get();
          break;
        default: // HALF_OPEN
          if (s.takeProbe()) {
            return s.generation;
          }
          refused();
          return -1;
      }
    }
  }

  private void refused() {
    outcomeTotals[CallOutcome.OPEN.ordinal()].increment();
    if (!listeners.isEmpty()) {
      fireCall(CallOutcome.OPEN, 0);
    }
  }

  /**
   * Records a successful call.
   *
   * @param permit the permit {@link #tryAcquirePermission} returned
   * @param durationNanos how long the call took (for slow-call judging)
   */
  public void onSuccess(long permit, long durationNanos) {
    record(permit, CallOutcome.SUCCESS, durationNanos);
  }

  /**
   * Records a failed call.
   *
   * @param permit the permit {@link #tryAcquirePermission} returned
   * @param durationNanos how long the call took
   */
  public void onFailure(long permit, long durationNanos) {
    record(permit, CallOutcome.FAILURE, durationNanos);
  }

  /**
   * Records the outcome of a permitted call: SUCCESS, or one of the failure outcomes (FAILURE,
   * TIMEOUT, POOL_FULL). Outcomes of permits from an earlier state are counted in the totals but
   * do not move the breaker.
   */
  void record(long permit, CallOutcome outcome, long durationNanos) {
    record(permit, outcome, durationNanos, Long.MIN_VALUE);
  }

  /** As {@link #record(long, CallOutcome, long)}, with the ticker's reading at the end of the call if known. */
  private void record(long permit, CallOutcome outcome, long durationNanos, long endNanos) {
    outcomeTotals[outcome.ordinal()].increment();
    StateData s = state.get();
    if (permit == s.generation) {
      Settings cfg = settings;
      boolean failure = outcome.isFailure();
      boolean slow = !failure && cfg.slowNanos > 0 && durationNanos > cfg.slowNanos;
      if (s.state == State.CLOSED) {
        long now = endNanos == Long.MIN_VALUE ? ticker.read() : endNanos;
        SlidingWindow w = cfg.window;
        if (failure) {
          w.increment(now, CALLS, FAILURES);
          judge(s, cfg, now);
        } else if (slow) {
          w.increment(now, CALLS, SLOW);
          judge(s, cfg, now);
        } else {
          w.increment(now, CALLS);
          if (judgementPending) {
            judge(s, cfg, now);
          }
        }
      } else if (s.state == State.HALF_OPEN) {
        judgeProbe(s, cfg, failure || slow);
      }
    }
    if (!listeners.isEmpty()) {
      fireCall(outcome, durationNanos);
    }
  }

  private void judge(StateData s, Settings cfg, long now) {
    long calls = cfg.window.sum(now, CALLS);
    if (calls < cfg.config.minimumCalls()) {
      judgementPending = true;
      return;
    }
    judgementPending = false;
    long failures = cfg.window.sum(now, FAILURES);
    boolean trip = failures * 100.0 >= cfg.config.failureRateThreshold() * calls;
    if (!trip && cfg.slowNanos > 0) {
      trip = cfg.window.sum(now, SLOW) * 100.0 >= cfg.config.slowCallRateThreshold() * calls;
    }
    if (trip) {
      open(s, 1, now);
    }
  }

  private void judgeProbe(StateData s, Settings cfg, boolean bad) {
    int badProbes = bad ? s.badProbes.incrementAndGet() : s.badProbes.get();
    int done = s.doneProbes.incrementAndGet();
    if (badProbes * 100.0 >= cfg.config.failureRateThreshold() * s.probes) {
      open(s, s.consecutiveTrips + 1, ticker.read());
    } else if (done >= s.probes) {
      if (state.compareAndSet(s, StateData.closed(s.generation + 1))) {
        cfg.window.reset();
        judgementPending = false;
        fireTransition(State.HALF_OPEN, State.CLOSED);
      }
    }
  }

  private void open(StateData from, int trips, long now) {
    long until = now + settings.config.openDurationNanos(trips);
    if (state.compareAndSet(from, StateData.open(from.generation + 1, until, trips))) {
      fireTransition(from.state, State.OPEN);
    }
  }

  /**
   * Runs {@code call} on this thread if the breaker lets it through, recording its outcome;
   * otherwise returns {@code fallback}'s value without calling {@code call}. An exception from
   * {@code call} is recorded as a failure and rethrown.
   *
   * @param <T> the result type
   * @param call the protected call
   * @param fallback what to return when the breaker refuses the call
   * @return the call's or the fallback's value
   */
  public <T> T execute(Supplier<? extends T> call, Supplier<? extends T> fallback) {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(fallback, "fallback");
    long permit = tryAcquirePermission();
    if (permit < 0) {
      return fallback.get();
    }
    return run(permit, call);
  }

  /**
   * Runs {@code call} on this thread if the breaker lets it through, recording its outcome.
   *
   * @param <T> the result type
   * @param call the protected call
   * @return the call's value
   * @throws CallNotPermittedException (preallocated, no stack trace) when the breaker refuses
   */
  public <T> T execute(Supplier<? extends T> call) {
    Objects.requireNonNull(call, "call");
    long permit = tryAcquirePermission();
    if (permit < 0) {
      throw state.get().state == State.HALF_OPEN ? halfOpenRefusal : openRefusal;
    }
    return run(permit, call);
  }

  private <T> T run(long permit, Supplier<? extends T> call) {
    // The start time matters only for slow-call judging; without it, one ticker read per call.
    boolean timed = settings.slowNanos > 0 || !listeners.isEmpty();
    long start = timed ? ticker.read() : 0;
    T value;
    try {
      value = call.get();
    } catch (RuntimeException | Error e) {
      long end = ticker.read();
      record(permit, CallOutcome.FAILURE, timed ? end - start : 0, end);
      throw e;
    }
    long end = ticker.read();
    record(permit, CallOutcome.SUCCESS, timed ? end - start : 0, end);
    return value;
  }

  /**
   * Returns a supplier that runs {@code call} through this breaker, with {@code fallback} when it
   * refuses (see {@link #execute(Supplier, Supplier)}).
   *
   * @param <T> the result type
   * @param call the protected call
   * @param fallback what to return when the breaker refuses the call
   * @return the decorated supplier
   */
  public <T> Supplier<T> decorate(Supplier<? extends T> call, Supplier<? extends T> fallback) {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(fallback, "fallback");
    return () -> execute(call, fallback);
  }

  /**
   * Returns the current state. Note that an OPEN breaker whose open duration has passed still
   * reports OPEN until the next call asks for permission.
   *
   * @return the state
   */
  public State state() {
    return state.get().state;
  }

  /**
   * Returns the breaker's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the configuration in force.
   *
   * @return the configuration
   */
  public BreakerConfig config() {
    return settings.config;
  }

  /**
   * Replaces thresholds, durations and budget without replacing the breaker. The state is kept; if
   * the window's length or bucket count changed, the window starts empty, otherwise its counts are
   * kept. The new open duration applies from the next trip; the new probe count from the next
   * half-open.
   *
   * @param config the new configuration
   */
  public void reconfigure(BreakerConfig config) {
    Checks.requireNonNull("config", config);
    Settings old = settings;
    boolean sameWindow = old.config.window().equals(config.window())
        && old.config.windowBuckets() == config.windowBuckets();
    settings = sameWindow ? new Settings(config, old.window) : new Settings(config);
  }

  /**
   * Moves the breaker to CLOSED with an empty window (an operator's manual reset).
   */
  public void reset() {
    for (;;) {
      StateData s = state.get();
      if (state.compareAndSet(s, StateData.closed(s.generation + 1))) {
        settings.window.reset();
        judgementPending = false;
        if (s.state != State.CLOSED) {
          fireTransition(s.state, State.CLOSED);
        }
        return;
      }
    }
  }

  /**
   * Opens the breaker now, as if it had tripped (an operator's manual action, e.g. to shed a
   * dependency that is known to be down): calls are refused for the open duration, then probes
   * decide as usual. {@link #reset()} closes it at once. Does nothing if it is already open.
   */
  public void forceOpen() {
    for (;;) {
      StateData s = state.get();
      if (s.state == State.OPEN) {
        return;
      }
      int trips = Math.max(1, s.consecutiveTrips);
      long until = ticker.read() + settings.config.openDurationNanos(trips);
      if (state.compareAndSet(s, StateData.open(s.generation + 1, until, trips))) {
        fireTransition(s.state, State.OPEN);
        return;
      }
    }
  }

  /**
   * Adds a listener.
   *
   * @param listener the listener
   */
  public void addListener(BreakerListener listener) {
    listeners.add(listener);
  }

  /**
   * Removes a listener.
   *
   * @param listener the listener
   * @return whether it was registered
   */
  public boolean removeListener(BreakerListener listener) {
    return listeners.remove(listener);
  }

  Listeners<BreakerListener> listeners() {
    return listeners;
  }

  /** Counts and reports an outcome of a call that never asked for a permit (rate limited, throttled). */
  void recordNotPermitted(CallOutcome outcome) {
    outcomeTotals[outcome.ordinal()].increment();
    if (!listeners.isEmpty()) {
      fireCall(outcome, 0);
    }
  }

  /**
   * Returns a snapshot of the state and the rates in the current window.
   *
   * @return a new snapshot
   */
  public BreakerSnapshot snapshot() {
    return snapshot(0, 0, 0);
  }

  BreakerSnapshot snapshot(long fallbacksCached, long fallbacksDefault, long lateAnswers) {
    Settings cfg = settings;
    long now = ticker.read();
    long calls = cfg.window.sum(now, CALLS);
    long failures = cfg.window.sum(now, FAILURES);
    long slow = cfg.window.sum(now, SLOW);
    long[] totals = new long[outcomeTotals.length];
    for (int i = 0; i < totals.length; i++) {
      totals[i] = outcomeTotals[i].sum();
    }
    return new BreakerSnapshot(name, state.get().state, calls, failures, slow, totals,
        fallbacksCached, fallbacksDefault, lateAnswers);
  }

  private void fireTransition(State from, State to) {
    if (!listeners.isEmpty()) {
      listeners.fire(l -> l.onStateTransition(name, from, to));
    }
  }

  private void fireCall(CallOutcome outcome, long durationNanos) {
    listeners.fire(l -> l.onCall(name, outcome, durationNanos));
  }

  @Override
  public String toString() {
    return "CircuitBreaker{name=" + name + ", state=" + state() + "}";
  }

  /** The configuration with what is derived from it; replaced as a whole on reconfiguration. */
  private static final class Settings {
    final BreakerConfig config;
    final SlidingWindow window;
    final long slowNanos;

    Settings(BreakerConfig config) {
      this(config, new SlidingWindow(config.window().toNanos(), config.windowBuckets(), 3));
    }

    Settings(BreakerConfig config, SlidingWindow window) {
      this.config = config;
      this.window = window;
      this.slowNanos = config.slowCallDurationThreshold() == null ? 0 : config.slowCallDurationThreshold().toNanos();
    }
  }

  /**
   * One state of the machine. Immutable but for the probe counters of a half-open state, which
   * belong to that state alone (a new half-open state starts with new counters).
   */
  private static final class StateData {
    final State state;
    final long generation;
    final long openUntilNanos;
    final int consecutiveTrips;
    final int probes;
    final AtomicInteger probesTaken;
    final AtomicInteger doneProbes;
    final AtomicInteger badProbes;

    private StateData(State state, long generation, long openUntilNanos, int consecutiveTrips, int probes) {
      this.state = state;
      this.generation = generation;
      this.openUntilNanos = openUntilNanos;
      this.consecutiveTrips = consecutiveTrips;
      this.probes = probes;
      boolean half = state == State.HALF_OPEN;
      this.probesTaken = half ? new AtomicInteger() : null;
      this.doneProbes = half ? new AtomicInteger() : null;
      this.badProbes = half ? new AtomicInteger() : null;
    }

    static StateData closed(long generation) {
      return new StateData(State.CLOSED, generation, 0, 0, 0);
    }

    static StateData open(long generation, long untilNanos, int trips) {
      return new StateData(State.OPEN, generation, untilNanos, trips, 0);
    }

    static StateData halfOpen(long generation, int trips, int probes) {
      return new StateData(State.HALF_OPEN, generation, 0, trips, probes);
    }

    boolean takeProbe() {
      for (;;) {
        int taken = probesTaken.get();
        if (taken >= probes) {
          return false;
        }
        if (probesTaken.compareAndSet(taken, taken + 1)) {
          return true;
        }
      }
    }
  }
}
