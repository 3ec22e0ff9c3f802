package io.giftkit.breaker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.giftkit.core.Checks;
import io.giftkit.core.Ticker;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protects a slow or unstable dependency with a latency budget, a failure-rate {@link
 * CircuitBreaker} and a per-key last-good fallback: every caller gets an answer within the budget,
 * fresh when the dependency answers in time, else the last good value for its key, else a default.
 * This is the gift panel's "privileged gifts" pattern:
 *
 * <pre>{@code
 * LatencyBreaker<List<Gift>> privileged = LatencyBreaker.<List<Gift>>builder("privileged-gifts")
 *     .config(BreakerConfig.builder().timeout(Duration.ofMillis(50)).build())
 *     .defaultValue(List.of())
 *     .build();
 *
 * BreakerResult<List<Gift>> r = privileged.call(uid, () -> privilegedService.fetch(uid));
 * panel.setPrivileged(r.value(), r.source());   // FRESH, CACHED or DEFAULT
 * }</pre>
 *
 * <p><b>Budget.</b> A synchronous call runs on a bounded executor while the caller waits at most the
 * budget (default 50 ms); then the caller gets the fallback at once and its thread is free. The call
 * is not interrupted: when it answers late its value still refreshes the key's last good value,
 * but nobody waits for it. The wait is the caller's own timed park, so budgets need no scheduled
 * task. For calls that are already asynchronous ({@link #callAsync}), one timer thread per breaker
 * cuts them off: all calls of a breaker share a budget, so their deadlines arrive in order and the
 * timer keeps them in a FIFO queue (O(1) per call, no cancellation work).
 *
 * <p><b>Outcomes.</b> A timeout, an exception or a full executor counts as a failure in the
 * breaker's window. An open breaker, a rate limiter or adaptive throttling refuses the call without
 * making it. In every one of those cases the caller gets the fallback, never an exception. A
 * {@code fallback} function that throws is logged and the default is served instead.
 *
 * <p><b>Executor.</b> By default each breaker owns a pool of {@code maxConcurrentCalls} daemon
 * threads (default 64) and a queue of as many calls (time in the queue counts against the
 * budget): when both are full the call is refused at once ({@link CallOutcome#POOL_FULL}). A caller-supplied executor is used as is and not shut down by {@link
 * #close()}.
 *
 * <p>Thread-safe. {@code call} blocks for at most the budget; {@code callAsync} never blocks. When
 * the breaker is open and the key has a last good value, a call reads one volatile field and one
 * cache entry and allocates nothing. Null values are returned but never cached.
 *
 * <p>Size: past the house limit of ~400 lines because the two call paths (the synchronous and the
 * asynchronous pending call, inner classes sharing the breaker's state and its last-good cache) and
 * the public nested {@link Builder} live here; about 430 of the lines are code.
 *
 * @param <V> the value type
 */
public final class LatencyBreaker<V> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LatencyBreaker.class);
  private static final Object NO_KEY = new Object() {
    @Override
    public String toString() {
      return "<no key>";
    }
  };

  private final String name;
  private final CircuitBreaker breaker;
  private final Ticker ticker;
  private final ExecutorService executor;
  private final boolean ownsExecutor;
  private final Cache<Object, BreakerResult<V>> lastGood;
  private volatile boolean keepLastGood;
  private final Map<CallOutcome, BreakerResult<V>> defaults = new EnumMap<>(CallOutcome.class);
  private final V defaultValue;
  private final Function<Object, ? extends V> fallback;
  private final RateLimiter rateLimiter;
  private final KeyedRateLimiter<Object> keyedRateLimiter;
  private final AdaptiveThrottle throttle;
  private final LongAdder fallbacksCached = new LongAdder();
  private final LongAdder fallbacksDefault = new LongAdder();
  private final LongAdder lateAnswers = new LongAdder();
  private final Object timerLock = new Object();
  private volatile DeadlineTimer timer;
  private volatile long rewriteAfterNanos;

  private LatencyBreaker(Builder<V> b) {
    this.name = b.name;
    this.ticker = b.ticker;
    this.breaker = CircuitBreaker.of(b.name, b.config, b.ticker);
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownsExecutor = false;
    } else {
      this.executor = newPool(b.name, b.maxConcurrentCalls);
      this.ownsExecutor = true;
    }
    this.lastGood = Caffeine.newBuilder()
        .maximumSize(b.config.fallbackCacheSize())
        .expireAfterWrite(b.config.fallbackCacheTtl())
        .ticker(b.ticker::read)
        .build();
    this.rewriteAfterNanos = b.config.fallbackCacheTtl().toNanos() / 4;
    this.keepLastGood = b.config.fallbackCacheSize() > 0;
    this.defaultValue = b.defaultValue;
    for (CallOutcome o : CallOutcome.values()) {
      defaults.put(o, new BreakerResult<>(b.defaultValue, BreakerResult.Source.DEFAULT, o));
    }
    this.fallback = b.fallback;
    this.rateLimiter = b.rateLimiter;
    this.keyedRateLimiter = b.keyedRateLimiter;
    this.throttle = new AdaptiveThrottle(b.config, b.ticker.read());
    for (BreakerListener l : b.listeners) {
      breaker.addListener(l);
    }
  }

  private static ExecutorService newPool(String name, int threads) {
    AtomicInteger n = new AtomicInteger();
    // A queue as deep as the pool: with a SynchronousQueue a worker that has just finished but is not
    // yet back in take() makes the pool reject although it is about to be free.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(threads), r -> {
          Thread t = new Thread(r, "giftkit-breaker-" + name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * Starts a builder.
   *
   * @param <V> the value type
   * @param name names the breaker in logs, events, thread names and metrics; not blank
   * @return a new builder
   */
  public static <V> Builder<V> builder(String name) {
    return new Builder<>(Checks.requireNonBlank("name", name));
  }

  /**
   * Calls the dependency for no particular key: the fallback is the last good value of any
   * un-keyed call. See {@link #call(Object, Supplier)}.
   *
   * @param call the call; not null
   * @return the result, within the budget
   */
  public BreakerResult<V> call(Supplier<? extends V> call) {
    return call(NO_KEY, call);
  }

  /**
   * Calls the dependency within the budget. Returns the fresh value if it answers in time;
   * otherwise, at once, the last good value for {@code key}, else the default. Never throws for a
   * failing, slow or refused call.
   *
   * @param key whose last good value to keep and to fall back to; not null
   * @param call the call; not null
   * @return the result, within the budget
   * @throws NullPointerException naming {@code key} or {@code call} if one is null
   */
  public BreakerResult<V> call(Object key, Supplier<? extends V> call) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(call, "call");
    CallOutcome refused = admit(key);
    if (refused != null) {
      return fallback(key, refused);
    }
    long permit = breaker.tryAcquirePermission();
    if (permit < 0) {
      return fallback(key, CallOutcome.OPEN);
    }
    long budget = breaker.config().timeout().toNanos();
    SyncCall c = new SyncCall(key, call, permit, ticker.read(), Thread.currentThread());
    try {
      executor.execute(c);
    } catch (RejectedExecutionException full) {
      breaker.record(permit, CallOutcome.POOL_FULL, 0);
      return fallback(key, CallOutcome.POOL_FULL);
    }
    long deadline = System.nanoTime() + budget;
    while (c.status == Pending.RUNNING) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0 || Thread.currentThread().isInterrupted()) {
        break; // an interrupted caller stops waiting at once, as if its budget had ended
      }
      LockSupport.parkNanos(c, remaining);
    }
    if (c.abandon()) {
      breaker.record(permit, CallOutcome.TIMEOUT, budget);
      return fallback(key, CallOutcome.TIMEOUT);
    }
    return c.awaitResult();
  }

  /**
   * Calls an asynchronous dependency within the budget. The returned future completes with the
   * fresh value if the stage completes in time; otherwise, when the budget ends, with the last good
   * value for {@code key} or the default. It never completes exceptionally for a failing, slow or
   * refused call. {@code call} runs on the caller's thread and should only start the work.
   *
   * @param key whose last good value to keep and to fall back to; not null
   * @param call starts the call and returns its stage; not null
   * @return a future of the result
   * @throws NullPointerException naming {@code key} or {@code call} if one is null
   */
  public CompletableFuture<BreakerResult<V>> callAsync(
      Object key, Supplier<? extends CompletionStage<? extends V>> call) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(call, "call");
    CallOutcome refused = admit(key);
    if (refused != null) {
      return CompletableFuture.completedFuture(fallback(key, refused));
    }
    long permit = breaker.tryAcquirePermission();
    if (permit < 0) {
      return CompletableFuture.completedFuture(fallback(key, CallOutcome.OPEN));
    }
    long budget = breaker.config().timeout().toNanos();
    AsyncCall c = new AsyncCall(key, permit, ticker.read(), System.nanoTime() + budget, budget);
    CompletionStage<? extends V> stage;
    try {
      stage = Objects.requireNonNull(call.get(), "the stage returned by call");
    } catch (RuntimeException | Error e) {
      c.finish(null, e);
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      return c.future;
    }
    stage.whenComplete(c::finish);
    if (c.isPending()) { // a stage that completed at once never reaches the timer
      timer().add(c);
    }
    return c.future;
  }

  /** Rate limits and throttling; null when the call may go on. */
  private CallOutcome admit(Object key) {
    if (rateLimiter != null && !rateLimiter.tryAcquire()) {
      breaker.recordNotPermitted(CallOutcome.RATE_LIMITED);
      return CallOutcome.RATE_LIMITED;
    }
    if (keyedRateLimiter != null && key != NO_KEY && !keyedRateLimiter.tryAcquire(key)) {
      breaker.recordNotPermitted(CallOutcome.RATE_LIMITED);
      return CallOutcome.RATE_LIMITED;
    }
    if (breaker.config().adaptiveThrottling() && throttle.reject(ticker.read())) {
      breaker.recordNotPermitted(CallOutcome.THROTTLED);
      return CallOutcome.THROTTLED;
    }
    return null;
  }

  /** Records a call that finished before its budget and builds its result. */
  private BreakerResult<V> completed(Pending p, V value, Throwable error) {
    long elapsed = ticker.read() - p.startNanos;
    if (error == null) {
      breaker.record(p.permit, CallOutcome.SUCCESS, elapsed);
      if (breaker.config().adaptiveThrottling()) {
        throttle.accepted(ticker.read());
      }
      remember(p.key, value);
      return new BreakerResult<>(value, BreakerResult.Source.FRESH, CallOutcome.SUCCESS);
    }
    breaker.record(p.permit, CallOutcome.FAILURE, elapsed);
    if (LOG.isDebugEnabled()) {
      LOG.debug("GiftKit breaker '{}': call for key {} failed; serving the fallback", name, p.key, error);
    }
    return fallback(p.key, CallOutcome.FAILURE);
  }

  /** An answer that arrived after its caller had the fallback: refresh the cache, wait for nobody. */
  private void late(Pending p, V value, Throwable error) {
    if (error == null) {
      lateAnswers.increment();
      remember(p.key, value);
    }
  }

  /**
   * Keeps {@code value} as the key's last good value. A cache write per call would make every
   * fresh answer pay for a Caffeine write; an answer equal to the kept value, kept less than a
   * quarter of the TTL ago, is therefore not written again (its expiry then falls between 3/4 of
   * the TTL and the TTL after the latest equal answer).
   */
  private void remember(Object key, V value) {
    if (value == null || !keepLastGood) {
      return;
    }
    long now = ticker.read();
    BreakerResult<V> kept = lastGood.getIfPresent(key);
    if (kept != null && now - kept.storedAtNanos < rewriteAfterNanos && value.equals(kept.value())) {
      return;
    }
    lastGood.put(key, new BreakerResult<>(value, BreakerResult.Source.CACHED, CallOutcome.OPEN, now));
  }

  private BreakerResult<V> fallback(Object key, CallOutcome why) {
    BreakerResult<V> cached = keepLastGood ? lastGood.getIfPresent(key) : null;
    if (cached != null) {
      fallbacksCached.increment();
      return why == CallOutcome.OPEN ? cached : new BreakerResult<>(cached.value(), BreakerResult.Source.CACHED, why);
    }
    fallbacksDefault.increment();
    if (fallback != null) {
      try {
        return new BreakerResult<>(fallback.apply(key == NO_KEY ? null : key), BreakerResult.Source.DEFAULT, why);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        LOG.warn("GiftKit breaker '{}': the fallback function threw for key {}; serving the default value",
            name, key, t);
      }
    }
    return defaults.get(why);
  }

  private DeadlineTimer timer() {
    DeadlineTimer t = timer;
    if (t == null) {
      synchronized (timerLock) {
        t = timer;
        if (t == null) {
          t = new DeadlineTimer("giftkit-breaker-" + name + "-timer");
          timer = t;
        }
      }
    }
    return t;
  }

  /**
   * Returns the last good value kept for {@code key}, if any.
   *
   * @param key the key
   * @return the value, if one is kept and not expired
   */
  public Optional<V> lastGood(Object key) {
    BreakerResult<V> r = lastGood.getIfPresent(Objects.requireNonNull(key, "key"));
    return r == null ? Optional.empty() : Optional.of(r.value());
  }

  /**
   * Replaces budget, thresholds, durations and cache bounds without replacing the breaker (see
   * {@link CircuitBreaker#reconfigure}). The new budget applies to calls that start afterwards.
   *
   * @param config the new configuration
   */
  public void reconfigure(BreakerConfig config) {
    breaker.reconfigure(config);
    keepLastGood = config.fallbackCacheSize() > 0;
    if (!keepLastGood) {
      lastGood.invalidateAll();
    }
    lastGood.policy().eviction().ifPresent(e -> e.setMaximum(config.fallbackCacheSize()));
    lastGood.policy().expireAfterWrite().ifPresent(e -> e.setExpiresAfter(config.fallbackCacheTtl()));
    throttle.setK(config.throttleK());
    rewriteAfterNanos = config.fallbackCacheTtl().toNanos() / 4;
  }

  /**
   * Adds a listener for state transitions and call outcomes.
   *
   * @param listener the listener
   */
  public void addListener(BreakerListener listener) {
    breaker.addListener(listener);
  }

  /**
   * Returns a snapshot for metrics: state, window rates, outcome totals, fallbacks by kind.
   *
   * @return a new snapshot
   */
  public BreakerSnapshot snapshot() {
    return breaker.snapshot(fallbacksCached.sum(), fallbacksDefault.sum(), lateAnswers.sum());
  }

  /** @return the breaker's name */
  public String name() {
    return name;
  }

  /** @return the circuit breaker inside, for its state and manual reset */
  public CircuitBreaker circuitBreaker() {
    return breaker;
  }

  /** @return the default value served when no last good value exists */
  public V defaultValue() {
    return defaultValue;
  }

  /**
   * Stops the timer thread and, if the breaker created its own executor, shuts it down (running
   * calls are not interrupted). Calls made afterwards get the fallback ({@link
   * CallOutcome#POOL_FULL}).
   */
  @Override
  public void close() {
    DeadlineTimer t = timer;
    if (t != null) {
      t.stop();
    }
    if (ownsExecutor) {
      executor.shutdown();
    }
  }

  @Override
  public String toString() {
    return "LatencyBreaker{name=" + name + ", state=" + breaker.state() + ", timeout="
        + Checks.describe(breaker.config().timeout()) + "}";
  }

  /**
   * A call in flight. Its status moves once from RUNNING: to CLAIMED then DONE when the call
   * answers first (only that path records the outcome), or to ABANDONED when the budget ends first
   * (only that path records the timeout).
   */
  abstract static class Pending {
    static final int RUNNING = 0;
    static final int CLAIMED = 1;
    static final int DONE = 2;
    static final int ABANDONED = 3;
    private static final AtomicIntegerFieldUpdater<Pending> STATUS =
        AtomicIntegerFieldUpdater.newUpdater(Pending.class, "status");

    final Object key;
    final long permit;
    final long startNanos;
    volatile int status;

    Pending(Object key, long permit, long startNanos) {
      this.key = key;
      this.permit = permit;
      this.startNanos = startNanos;
    }

    final boolean claim() {
      return STATUS.compareAndSet(this, RUNNING, CLAIMED);
    }

    final boolean abandon() {
      return STATUS.compareAndSet(this, RUNNING, ABANDONED);
    }

    public boolean isPending() {
      return status == RUNNING;
    }
  }

  /** A synchronous call: runs on the executor while its caller parks for at most the budget. */
  final class SyncCall extends Pending implements Runnable {
    private final Supplier<? extends V> call;
    private final Thread caller;
    BreakerResult<V> result; // written before status becomes DONE, read after

    SyncCall(Object key, Supplier<? extends V> call, long permit, long startNanos, Thread caller) {
      super(key, permit, startNanos);
      this.call = call;
      this.caller = caller;
    }

    @Override
    public void run() {
      V value = null;
      Throwable error = null;
      try {
        value = call.get();
      } catch (Throwable t) {
        error = t;
      }
      if (claim()) {
        result = completed(this, value, error);
        status = DONE;
        LockSupport.unpark(caller);
      } else {
        late(this, value, error);
      }
      if (error instanceof VirtualMachineError) {
        throw (VirtualMachineError) error;
      }
    }

    /** After the caller lost the race to a claim: the result is microseconds away. */
    BreakerResult<V> awaitResult() {
      while (status != DONE) {
        LockSupport.park(this);
      }
      return result;
    }

  }

  /** An asynchronous call: its stage and the timer race for its status. */
  final class AsyncCall extends Pending implements DeadlineTimer.Deadline {
    final long deadlineNanos;
    final long budgetNanos;
    final CompletableFuture<BreakerResult<V>> future = new CompletableFuture<>();

    AsyncCall(Object key, long permit, long startNanos, long deadlineNanos, long budgetNanos) {
      super(key, permit, startNanos);
      this.deadlineNanos = deadlineNanos;
      this.budgetNanos = budgetNanos;
    }

    void finish(V value, Throwable error) {
      if (claim()) {
        BreakerResult<V> r = completed(this, value, error);
        status = DONE;
        future.complete(r);
      } else {
        late(this, value, error);
      }
    }

    @Override
    public long deadlineNanos() {
      return deadlineNanos;
    }

    @Override
    public void expire() {
      if (abandon()) {
        breaker.record(permit, CallOutcome.TIMEOUT, budgetNanos);
        future.complete(fallback(key, CallOutcome.TIMEOUT));
      }
    }
  }

  /**
   * Builds a {@link LatencyBreaker}. Not thread-safe.
   *
   * @param <V> the value type
   */
  public static final class Builder<V> {
    /** Default size of the breaker's own pool: 64 threads. */
    public static final int DEFAULT_MAX_CONCURRENT_CALLS = 64;

    private final String name;
    private BreakerConfig config = BreakerConfig.ofDefaults();
    private Ticker ticker = Ticker.system();
    private ExecutorService executor;
    private int maxConcurrentCalls = DEFAULT_MAX_CONCURRENT_CALLS;
    private V defaultValue;
    private Function<Object, ? extends V> fallback;
    private RateLimiter rateLimiter;
    private KeyedRateLimiter<Object> keyedRateLimiter;
    private final java.util.List<BreakerListener> listeners = new java.util.ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Sets budget, thresholds and cache bounds. Default {@link BreakerConfig#ofDefaults()}.
     *
     * @param config the configuration
     * @return this builder
     */
    public Builder<V> config(BreakerConfig config) {
      this.config = Checks.requireNonNull("config", config);
      return this;
    }

    /**
     * Sets the value served when a key has no last good value (e.g. an empty list). Default null.
     *
     * @param value the default value
     * @return this builder
     */
    public Builder<V> defaultValue(V value) {
      this.defaultValue = value;
      return this;
    }

    /**
     * Sets a function computing the fallback for a key that has no last good value, tried before
     * the default value. If it throws, the throw is logged and the default value served. The key
     * passed is null for un-keyed calls.
     *
     * @param fallback the function
     * @return this builder
     */
    public Builder<V> fallback(Function<Object, ? extends V> fallback) {
      this.fallback = Checks.requireNonNull("fallback", fallback);
      return this;
    }

    /**
     * Runs calls on a caller-owned executor instead of the breaker's own pool. It should be
     * bounded and reject when full (a rejection counts as a failure and serves the fallback).
     *
     * @param executor the executor; not shut down by {@link LatencyBreaker#close()}
     * @return this builder
     */
    public Builder<V> executor(ExecutorService executor) {
      this.executor = Checks.requireNonNull("executor", executor);
      return this;
    }

    /**
     * Sizes the breaker's own pool, and its queue, which is as deep (ignored when an executor is
     * given). Default 64.
     *
     * @param threads in [1, 10000]
     * @return this builder
     */
    public Builder<V> maxConcurrentCalls(int threads) {
      this.maxConcurrentCalls = (int) Checks.requireInRange("maxConcurrentCalls", threads, 1, 10_000);
      return this;
    }

    /**
     * Limits the rate of all calls; refused calls get the fallback.
     *
     * @param limiter the limiter
     * @return this builder
     */
    public Builder<V> rateLimiter(RateLimiter limiter) {
      this.rateLimiter = Checks.requireNonNull("rateLimiter", limiter);
      return this;
    }

    /**
     * Limits the rate per key (un-keyed calls are not limited by it); refused calls get the
     * fallback.
     *
     * @param limiter the limiter
     * @return this builder
     */
    public Builder<V> keyedRateLimiter(KeyedRateLimiter<Object> limiter) {
      this.keyedRateLimiter = Checks.requireNonNull("keyedRateLimiter", limiter);
      return this;
    }

    /**
     * Sets the time source for windows, cooldowns and cache expiry (tests pass a fake one; the
     * budget wait itself always uses {@link System#nanoTime()}).
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder<V> ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /**
     * Adds a listener.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder<V> listener(BreakerListener listener) {
      listeners.add(Checks.requireNonNull("listener", listener));
      return this;
    }

    /**
     * Builds the breaker (closed, with an empty cache; its pool threads start on demand).
     *
     * @return the breaker
     */
    public LatencyBreaker<V> build() {
      return new LatencyBreaker<>(this);
    }
  }
}
