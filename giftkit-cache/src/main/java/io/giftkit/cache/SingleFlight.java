package io.giftkit.cache;

import io.giftkit.core.Checks;
import io.giftkit.core.GiftkitTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Coalesces concurrent identical loads: while a load for a key is in flight, every other caller for
 * that key waits for it and gets its result (or its exception) instead of loading again; 100
 * concurrent reads of one hot key become one. Nothing is kept once the load completes: the next
 * call after it loads again (this is not a cache).
 *
 * <pre>{@code
 * SingleFlight<Long, Room> flights = new SingleFlight<>("room-info");
 * Room room = flights.get(roomId, id -> roomDao.load(id));
 * Room fast = flights.get(roomId, id -> roomDao.load(id), Duration.ofMillis(50)); // waiter gives up after 50 ms
 * }</pre>
 *
 * <p>The caller that starts a load (the leader) runs the loader on its own thread; waiters block
 * (sync forms) or get a future (async form). A waiter that gives up after its own timeout gets a
 * {@link GiftkitTimeoutException}; the shared load goes on for the others and no second load is
 * started on its behalf (JetCache's waiter timeout starts one and re-creates the stampede). The
 * in-flight entry is removed with key and future together, so a failed or forgotten load can never
 * remove a newer one.
 *
 * <p>Why not Caffeine's {@code AsyncCache}: it coalesces the same way, but keeps the completed value
 * until evicted, and a single-flight must not cache. This class is a {@link ConcurrentHashMap} of
 * in-flight futures and nothing else.
 *
 * <p>Thread-safe. Memory: one entry per key in flight.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class SingleFlight<K, V> {

  private final String name;
  private final ConcurrentHashMap<K, CompletableFuture<V>> inFlight = new ConcurrentHashMap<>();
  private final LongAdder loads = new LongAdder();
  private final LongAdder coalesced = new LongAdder();
  private final LongAdder waiterTimeouts = new LongAdder();

  /**
   * Creates a single-flight group.
   *
   * @param name names it in timeout messages; not blank
   */
  public SingleFlight(String name) {
    this.name = Checks.requireNonBlank("name", name);
  }

  /**
   * Returns the value for {@code key}, loading it unless a load is already in flight, in which case
   * this waits for that load.
   *
   * @param key the key; not null
   * @param loader loads the value; runs on this thread if this call leads
   * @return the loaded value (may be null if the loader returns null)
   * @throws RuntimeException the loader's exception, to the leader and every waiter (checked
   *     exceptions cannot occur: loaders are functions)
   */
  public V get(K key, Function<? super K, ? extends V> loader) {
    return get(key, loader, null);
  }

  /**
   * As {@link #get(Object, Function)}, but a waiter gives up after {@code timeout} (the leader,
   * which does the work, does not).
   *
   * @param key the key; not null
   * @param loader loads the value
   * @param timeout how long a waiter waits; positive
   * @return the loaded value
   * @throws GiftkitTimeoutException if this call waited for another's load longer than
   *     {@code timeout}; that load goes on
   */
  public V get(K key, Function<? super K, ? extends V> loader, Duration timeout) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(loader, "loader");
    if (timeout != null) {
      Checks.requirePositive("timeout", timeout);
    }
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> existing = inFlight.putIfAbsent(key, mine);
    if (existing != null) {
      coalesced.increment();
      return await(existing, timeout);
    }
    loads.increment();
    try {
      V value = loader.apply(key);
      mine.complete(value);
      return value;
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      throw t;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  /**
   * Returns a future of the value for {@code key}, starting a load unless one is in flight. The
   * loader starts the work and returns its future; it is called on this thread only if this call
   * leads. Cancelling the returned future does not cancel the shared load.
   *
   * @param key the key; not null
   * @param loader starts the load
   * @return a future completed with the value or the loader's exception
   */
  public CompletableFuture<V> getAsync(K key, Function<? super K, ? extends CompletableFuture<? extends V>> loader) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(loader, "loader");
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> existing = inFlight.putIfAbsent(key, mine);
    if (existing != null) {
      coalesced.increment();
      return existing.copy();
    }
    loads.increment();
    CompletableFuture<? extends V> started;
    try {
      started = Objects.requireNonNull(loader.apply(key), "the future returned by loader");
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      inFlight.remove(key, mine);
      return mine.copy();
    }
    started.whenComplete((value, error) -> {
      if (error != null) {
        mine.completeExceptionally(unwrap(error));
      } else {
        mine.complete(value);
      }
      inFlight.remove(key, mine);
    });
    return mine.copy();
  }

  /**
   * Forgets the load in flight for {@code key}, if any: its waiters still get its result, but the
   * next call starts a new load (e.g. after the value was known to change).
   *
   * @param key the key
   * @return whether a load was in flight
   */
  public boolean forget(K key) {
    return inFlight.remove(Objects.requireNonNull(key, "key")) != null;
  }

  /** @return how many loads are in flight now */
  public int inFlight() {
    return inFlight.size();
  }

  /** @return how many loads were started */
  public long loads() {
    return loads.sum();
  }

  /** @return how many calls waited for another's load instead of loading */
  public long coalesced() {
    return coalesced.sum();
  }

  /** @return how many waiters gave up after their timeout */
  public long waiterTimeouts() {
    return waiterTimeouts.sum();
  }

  private V await(CompletableFuture<V> future, Duration timeout) {
    try {
      return timeout == null ? future.get() : future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      waiterTimeouts.increment();
      throw GiftkitTimeoutException.of("single-flight '" + name + "' waiter", timeout,
          "the shared load goes on; in flight=" + inFlight.size());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted while waiting for the shared load");
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException) {
      throw (RuntimeException) cause;
    }
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    throw new CompletionException(cause);
  }

  @Override
  public String toString() {
    return "SingleFlight{name=" + name + ", inFlight=" + inFlight.size() + ", loads=" + loads.sum()
        + ", coalesced=" + coalesced.sum() + "}";
  }
}
