package io.giftkit.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

class ListenersTest {

  @Test
  void throwingListenerIsCountedAndTheOthersStillHearTheEvent() {
    Listeners<IntConsumer> listeners = Listeners.create("test");
    List<Integer> heardBefore = new ArrayList<>();
    List<Integer> heardAfter = new ArrayList<>();
    listeners.add(heardBefore::add);
    listeners.add(i -> {
      throw new IllegalStateException("listener bug");
    });
    listeners.add(heardAfter::add);

    listeners.fire(l -> l.accept(1));
    listeners.fire(l -> l.accept(2));

    assertThat(heardBefore).containsExactly(1, 2);
    assertThat(heardAfter).containsExactly(1, 2);
    assertThat(listeners.failures()).isEqualTo(2);
    assertThat(listeners.toString()).isEqualTo("Listeners{owner=test, size=3, failures=2}");
  }

  @Test
  void errorsOtherThanFatalOnesAreAlsoContained() {
    Listeners<Runnable> listeners = Listeners.create("test");
    listeners.add(() -> {
      throw new AssertionError("not fatal to the caller");
    });
    listeners.fire(Runnable::run);
    assertThat(listeners.failures()).isOne();
  }

  @Test
  void fatalErrorsAreRethrown() {
    Listeners<Runnable> listeners = Listeners.create("test");
    listeners.add(() -> {
      throw new OutOfMemoryError("simulated");
    });
    assertThatThrownBy(() -> listeners.fire(Runnable::run)).isInstanceOf(OutOfMemoryError.class);
  }

  @Test
  void addRemoveAndEmptiness() {
    Listeners<Runnable> listeners = Listeners.create("test");
    assertThat(listeners.isEmpty()).isTrue();
    LongAdder calls = new LongAdder();
    Runnable listener = calls::increment;
    listeners.add(listener);
    listeners.add(listener);
    listeners.fire(Runnable::run);
    assertThat(calls.sum()).isEqualTo(2);
    assertThat(listeners.remove(listener)).isTrue();
    listeners.fire(Runnable::run);
    assertThat(calls.sum()).isEqualTo(3);
    assertThat(listeners.remove(listener)).isTrue();
    assertThat(listeners.remove(listener)).isFalse();
    assertThat(listeners.isEmpty()).isTrue();
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> Listeners.create(" ")).hasMessage("owner must not be blank, but was \" \"");
    Listeners<Runnable> listeners = Listeners.create("test");
    assertThatThrownBy(() -> listeners.add(null)).hasMessage("listener must not be null, but was null");
  }

  /**
   * Many threads fire while others keep adding and removing listeners: a listener registered
   * throughout hears every event exactly once, and a listener that always throws is counted every
   * time, with nothing escaping to the firing threads.
   */
  @Test
  void concurrentFireAndRegistrationLoseNothing() throws Exception {
    Listeners<Runnable> listeners = Listeners.create("stress");
    LongAdder steady = new LongAdder();
    listeners.add(steady::increment);
    listeners.add(() -> {
      throw new IllegalStateException("always");
    });

    int firingThreads = 8;
    int eventsPerThread = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(firingThreads + 2);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean firing = new AtomicBoolean(true);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < firingThreads; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < eventsPerThread; i++) {
          listeners.fire(Runnable::run);
        }
        return null;
      }));
    }
    List<Future<?>> churners = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      churners.add(pool.submit(() -> {
        start.await();
        Runnable transient_ = () -> {};
        while (firing.get()) {
          listeners.add(transient_);
          assertThat(listeners.remove(transient_)).isTrue();
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    firing.set(false);
    for (Future<?> f : churners) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();

    long total = (long) firingThreads * eventsPerThread;
    assertThat(steady.sum()).isEqualTo(total);
    assertThat(listeners.failures()).isEqualTo(total);
  }
}
