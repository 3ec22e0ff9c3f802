package io.giftkit.mq;

import io.giftkit.mq.GiftkitConsumer.State;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer's {@code concurrency} poll loops, one slot each, and the lifecycle state they add up to:
 * starts them, hears how each ended, has the {@link Supervisor} restart a loop that died of something
 * a restart may fix (RESTARTING meanwhile, RUNNING again once the new loop has polled), and makes the
 * consumer FAILED for what a restart cannot fix or when the restarts in a row ran out. When the last
 * loop has ended the dead-letter producer is closed.
 *
 * <p>Thread-safe: start and close from any thread, loops report from their own threads, restarts run
 * on the supervisor's thread.
 */
final class PollLoops<K, V> implements PollLoop.Owner {

  private static final Logger LOG = LoggerFactory.getLogger(GiftkitConsumer.class);

  private final ConsumerSettings<K, V> s;
  private final Supervisor supervisor;
  private final Function<Map<String, Object>, Consumer<byte[], byte[]>> consumers;
  private final java.util.function.Consumer<Consumer<byte[], byte[]>> closed;
  private final ConsumerCounters counters;
  private final Map<TopicPartition, PartitionLag> lagView = new ConcurrentHashMap<>();
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicInteger alive = new AtomicInteger();
  private final AtomicInteger restarting = new AtomicInteger();
  private final AtomicReference<RuntimeException> injectedFailure = new AtomicReference<>();
  private final List<PollLoop<K, V>> loops = new ArrayList<>();
  private volatile boolean running;
  private DeadLetterPublisher deadLetters;

  /**
   * @param consumers builds a Kafka consumer from {@link ConsumerSettings#consumerConfig}
   * @param closed told of each Kafka consumer a loop has closed
   */
  PollLoops(ConsumerSettings<K, V> settings, Supervisor supervisor,
      Function<Map<String, Object>, Consumer<byte[], byte[]>> consumers, ConsumerCounters counters,
      java.util.function.Consumer<Consumer<byte[], byte[]>> closed) {
    this.s = settings;
    this.supervisor = supervisor;
    this.consumers = consumers;
    this.closed = closed;
    this.counters = counters;
  }

  /** Starts the loops, publishing dead letters through {@code deadLetters} (closed when the last loop ends). */
  synchronized void start(java.util.function.Supplier<DeadLetterPublisher> deadLetters) {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("consumer '" + s.name() + "' was already started (state " + state.get() + ")");
    }
    this.deadLetters = deadLetters.get();
    running = true;
    for (int i = 0; i < s.concurrency(); i++) {
      loops.add(newLoop(i, 0));
    }
    alive.set(loops.size());
    for (PollLoop<K, V> l : loops) {
      l.thread.start();
    }
  }

  private PollLoop<K, V> newLoop(int slot, int inARow) {
    String threadName = "giftkit-consumer-" + s.name() + (s.concurrency() == 1 ? "" : "-" + slot)
        + (inARow == 0 ? "" : "-r" + supervisor.restarts());
    return new PollLoop<>(s, consumers.apply(s.consumerConfig()), threadName, slot, inARow, this, deadLetters,
        counters, lagView);
  }

  State state() {
    return state.get();
  }

  Throwable failure() {
    return failure.get();
  }

  long restarts() {
    return supervisor.restarts();
  }

  List<PartitionLag> lag() {
    return List.copyOf(lagView.values());
  }

  /** Test hook: the next loop to poll dies of {@code failure}. */
  void failOnce(RuntimeException failure) {
    injectedFailure.set(failure);
  }

  /** Stops the loops after the records in hand (each commits and closes its consumer); waits up to 30 s. */
  void close() {
    running = false;
    for (Runnable notStarted : supervisor.close()) {
      notStarted.run(); // sees running == false: settles the slot instead of restarting it
    }
    List<PollLoop<K, V>> ls;
    synchronized (this) {
      ls = List.copyOf(loops);
    }
    for (PollLoop<K, V> l : ls) {
      l.consumer.wakeup();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (PollLoop<K, V> l : ls) {
      if (l.thread != Thread.currentThread()) {
        try {
          l.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
  }

  @Override
  public boolean running() {
    return running;
  }

  @Override
  public RuntimeException takeInjectedFailure() {
    return injectedFailure.getAndSet(null);
  }

  @Override
  public void recovered() {
    if (restarting.decrementAndGet() == 0) {
      state.compareAndSet(State.RESTARTING, State.RUNNING);
    }
  }

  @Override
  public void exited(PollLoop<?, ?> loop, Throwable died) {
    closed.accept(loop.consumer);
    if (died != null) {
      slotDied(loop.slot, loop.inARow, s.ticker().read() - loop.startedNanos, loop.recovering, loop.thread.getName(),
          died);
    } else {
      slotExited();
    }
  }

  /** A slot's loop died (or its restart could not even build the Kafka consumer): restart it, or FAILED. */
  private void slotDied(int slot, int inARowBefore, long ranNanos, boolean recovering, String thread,
      Throwable died) {
    failure.set(died);
    int inARow = running ? supervisor.next(died, inARowBefore, ranNanos) : -1;
    if (inARow > 0) {
      if (!recovering) {
        restarting.incrementAndGet();
      }
      long delayMs = TimeUnit.NANOSECONDS.toMillis(supervisor.delayNanos(inARow));
      synchronized (this) {
        // counted before RESTARTING shows (a reader never sees RESTARTING with the restart uncounted);
        // restart() takes this lock too, so it cannot set RUNNING before this sets RESTARTING
        supervisor.schedule(inARow, () -> restart(slot, inARow));
        state.compareAndSet(State.RUNNING, State.RESTARTING);
      }
      LOG.error("GiftKit consumer '{}': the poll loop {} died; restarting it in {} ms (restart {} in a row)", s.name(),
          thread, delayMs, inARow, died);
      return; // the slot stays alive
    }
    if (recovering) {
      restarting.decrementAndGet();
    }
    state.set(State.FAILED);
    LOG.error("GiftKit consumer '{}': the poll loop {} died{}; the consumer is FAILED", s.name(), thread,
        Supervisor.restartable(died) ? (running ? " and its restarts in a row ran out" : " while closing")
            : " of what a restart cannot fix", died);
    slotExited();
  }

  private void slotExited() {
    if (alive.decrementAndGet() == 0) {
      state.compareAndSet(State.RUNNING, State.STOPPED);
      state.compareAndSet(State.RESTARTING, State.STOPPED);
      deadLetters.close();
    }
  }

  /** Replaces the dead loop of {@code slot} (the supervisor's thread). */
  private void restart(int slot, int inARow) {
    synchronized (this) {
      if (running) {
        PollLoop<K, V> l;
        try {
          l = newLoop(slot, inARow);
        } catch (RuntimeException | Error e) {
          slotDied(slot, inARow, 0, true, "restart of slot " + slot, e); // another death in a row
          return;
        }
        l.recovering = true;
        loops.set(slot, l);
        l.thread.start();
        return;
      }
    }
    restarting.decrementAndGet();
    slotExited();
  }
}
