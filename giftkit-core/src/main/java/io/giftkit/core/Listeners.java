package io.giftkit.core;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A set of listeners with guarded dispatch: a listener that throws is logged (at WARN, with the owner
 * and listener named) and counted, and never breaks the call that fired the event nor keeps the
 * other listeners from hearing it. This is how every GiftKit component calls user callbacks.
 *
 * <pre>{@code
 * private final Listeners<BreakerListener> listeners = Listeners.create("breaker 'privileged'");
 * ...
 * listeners.fire(l -> l.onStateChange(from, to));
 * }</pre>
 *
 * <p>So that a listener that throws on every event cannot flood the log, failures are logged with
 * their stack trace at the 1st, 2nd, 4th, 8th … failure (each line gives the running count) and
 * counted always ({@link #failures()}).
 *
 * <p>Thread-safe. Adding and removing copy the listener array (they are rare); {@link #fire} reads it
 * without locking and allocates nothing when there are no listeners. Fatal errors
 * ({@link VirtualMachineError}, e.g. {@link OutOfMemoryError}) are rethrown, not swallowed.
 *
 * @param <L> the listener type
 */
public final class Listeners<L> {

  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
  private static final Object[] NONE = new Object[0];

  private final String owner;
  private final AtomicLong failures = new AtomicLong();
  private volatile Object[] listeners = NONE;

  private Listeners(String owner) {
    this.owner = owner;
  }

  /**
   * Creates an empty set.
   *
   * @param <L> the listener type
   * @param owner names the component in log lines, e.g. {@code "breaker 'privileged'"}
   * @return the empty set
   */
  public static <L> Listeners<L> create(String owner) {
    return new Listeners<>(Checks.requireNonBlank("owner", owner));
  }

  /**
   * Adds a listener. The same instance may be added twice and is then called twice.
   *
   * @param listener the listener
   * @throws InvalidConfigException if it is null
   */
  public synchronized void add(L listener) {
    Checks.requireNonNull("listener", listener);
    Object[] current = listeners;
    Object[] next = Arrays.copyOf(current, current.length + 1);
    next[current.length] = listener;
    listeners = next;
  }

  /**
   * Removes one registration of a listener.
   *
   * @param listener the listener
   * @return whether it was registered
   */
  public synchronized boolean remove(L listener) {
    Object[] current = listeners;
    for (int i = 0; i < current.length; i++) {
      if (Objects.equals(current[i], listener)) {
        Object[] next = new Object[current.length - 1];
        System.arraycopy(current, 0, next, 0, i);
        System.arraycopy(current, i + 1, next, i, current.length - i - 1);
        listeners = next;
        return true;
      }
    }
    return false;
  }

  /**
   * Whether no listener is registered; lets callers skip building an event nobody hears.
   *
   * @return {@code true} if {@link #fire} would call nothing
   */
  public boolean isEmpty() {
    return listeners.length == 0;
  }

  /**
   * Calls {@code event} on every listener, in registration order, on the calling thread. A listener
   * that throws is logged and counted; the rest are still called.
   *
   * @param event what to call on each listener
   */
  @SuppressWarnings("unchecked")
  public void fire(Consumer<? super L> event) {
    Object[] snapshot = listeners;
    for (Object listener : snapshot) {
      try {
        event.accept((L) listener);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        long n = failures.incrementAndGet();
        if ((n & (n - 1)) == 0) { // 1st, 2nd, 4th, 8th …: a listener that always throws cannot flood the log
          LOG.warn(
              "GiftKit {}: listener {} threw; it was ignored (listener failure #{}; further failures are"
                  + " logged at powers of two)",
              owner, listener.getClass().getName(), n, t);
        }
      }
    }
  }

  /**
   * Returns how many listener calls have thrown since creation.
   *
   * @return the count
   */
  public long failures() {
    return failures.get();
  }

  @Override
  public String toString() {
    return "Listeners{owner=" + owner + ", size=" + listeners.length + ", failures=" + failures.get() + "}";
  }
}
