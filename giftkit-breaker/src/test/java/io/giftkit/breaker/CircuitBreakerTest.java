package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.breaker.CircuitBreaker.State;
import io.giftkit.core.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  private final FakeTicker ticker = new FakeTicker();

  private CircuitBreaker breaker(BreakerConfig config) {
    return CircuitBreaker.of("test", config, ticker);
  }

  private static void succeed(CircuitBreaker b, int n) {
    for (int i = 0; i < n; i++) {
      long p = b.tryAcquirePermission();
      assertThat(p).isNotNegative();
      b.onSuccess(p, 1_000);
    }
  }

  private static void fail(CircuitBreaker b, int n) {
    for (int i = 0; i < n; i++) {
      long p = b.tryAcquirePermission();
      assertThat(p).isNotNegative();
      b.onFailure(p, 1_000);
    }
  }

  @Test
  void tripsAtExactlyTheThresholdOnceMinimumCallsAreReached() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults()); // 50%, 20 calls
    succeed(b, 10);
    fail(b, 9);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 19 calls: below the minimum
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.OPEN); // 10 of 20 = 50%
    assertThat(b.tryAcquirePermission()).isNegative();
  }

  @Test
  void neverTripsBelowMinimumCallsEvenIfAllFail() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    fail(b, 19);
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void failuresBeforeTheMinimumAreJudgedWhenSuccessesReachIt() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    fail(b, 10);
    succeed(b, 9);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    succeed(b, 1); // 10 of 20
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void staysClosedJustBelowTheThreshold() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    succeed(b, 11);
    fail(b, 9);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(b.snapshot().failureRate()).isEqualTo(45.0);
    assertThat(b.snapshot().callsInWindow()).isEqualTo(20);
  }

  @Test
  void failuresOlderThanTheWindowAreForgotten() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults()); // 10 s in 10 buckets
    fail(b, 15);
    ticker.advance(Duration.ofSeconds(10));
    succeed(b, 10);
    fail(b, 9);
    assertThat(b.state()).isEqualTo(State.CLOSED); // the 15 old failures left the window
    assertThat(b.snapshot().callsInWindow()).isEqualTo(19);
  }

  @Test
  void cooldownThenHalfOpenProbesClose() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    fail(b, 20);
    assertThat(b.state()).isEqualTo(State.OPEN);
    ticker.advance(Duration.ofMillis(4_999));
    assertThat(b.tryAcquirePermission()).isNegative();
    ticker.advance(Duration.ofMillis(1));

    long[] probes = new long[5];
    for (int i = 0; i < 5; i++) {
      probes[i] = b.tryAcquirePermission();
      assertThat(probes[i]).isNotNegative();
    }
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    assertThat(b.tryAcquirePermission()).as("a sixth call while 5 probes are out").isNegative();
    for (int i = 0; i < 4; i++) {
      b.onSuccess(probes[i], 1_000);
      assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    }
    b.onSuccess(probes[4], 1_000);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(b.snapshot().callsInWindow()).as("a closed breaker starts with a fresh window").isZero();
  }

  @Test
  void failingProbesReopenWithExponentialBackoff() {
    CircuitBreaker b = breaker(BreakerConfig.builder().openBackoff(2.0, Duration.ofSeconds(15)).build());
    fail(b, 20);
    ticker.advance(Duration.ofSeconds(5));
    long first = b.tryAcquirePermission();
    long second = b.tryAcquirePermission();
    long third = b.tryAcquirePermission();
    b.onFailure(first, 1);
    b.onFailure(second, 1);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    b.onFailure(third, 1); // 3 of 5 probes failed: 60% >= 50%, no need to wait for the rest
    assertThat(b.state()).isEqualTo(State.OPEN);

    ticker.advance(Duration.ofMillis(9_999)); // second consecutive trip: 5 s * 2
    assertThat(b.tryAcquirePermission()).isNegative();
    ticker.advance(Duration.ofMillis(1));
    fail(b, 3);
    assertThat(b.state()).isEqualTo(State.OPEN);
    ticker.advance(Duration.ofMillis(14_999)); // third: 20 s, capped at 15 s
    assertThat(b.tryAcquirePermission()).isNegative();
    ticker.advance(Duration.ofMillis(1));
    succeed(b, 5);
    assertThat(b.state()).isEqualTo(State.CLOSED);

    fail(b, 20); // closing reset the back-off: 5 s again
    ticker.advance(Duration.ofSeconds(5));
    assertThat(b.tryAcquirePermission()).isNotNegative();
  }

  @Test
  void lateOutcomesFromAnEarlierStateMoveNothing() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    long stale = b.tryAcquirePermission(); // issued while closed
    fail(b, 20);
    ticker.advance(Duration.ofSeconds(5));
    long probe = b.tryAcquirePermission();
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    for (int i = 0; i < 10; i++) {
      b.onFailure(stale, 1);
    }
    assertThat(b.state()).as("failures of an earlier generation do not re-open").isEqualTo(State.HALF_OPEN);
    b.onSuccess(probe, 1);
    succeed(b, 4);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    b.onFailure(probe, 1);
    assertThat(b.snapshot().failuresInWindow()).as("a late probe outcome lands nowhere").isZero();
  }

  @Test
  void slowCallsTripWhenEnabled() {
    CircuitBreaker b = breaker(BreakerConfig.builder()
        .timeout(Duration.ofMillis(50)).slowCalls(Duration.ofMillis(20), 60).minimumCalls(10).build());
    for (int i = 0; i < 10; i++) {
      long p = b.tryAcquirePermission();
      b.onSuccess(p, Duration.ofMillis(i < 5 ? 30 : 5).toNanos());
    }
    assertThat(b.state()).isEqualTo(State.CLOSED); // 50% slow
    assertThat(b.snapshot().slowCallRate()).isEqualTo(50.0);
    long p = b.tryAcquirePermission();
    b.onSuccess(p, Duration.ofMillis(21).toNanos());
    long q = b.tryAcquirePermission();
    b.onSuccess(q, Duration.ofMillis(21).toNanos()); // 7 of 12 = 58%
    assertThat(b.state()).isEqualTo(State.CLOSED);
    long r = b.tryAcquirePermission();
    b.onSuccess(r, Duration.ofMillis(21).toNanos()); // 8 of 13 = 61.5%
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void executeServesTheFallbackWithoutCallingWhenOpen() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    fail(b, 20);
    AtomicInteger calls = new AtomicInteger();
    String r = b.execute(() -> "fresh-" + calls.incrementAndGet(), () -> "fallback");
    assertThat(r).isEqualTo("fallback");
    assertThat(calls).hasValue(0);
    assertThat(b.snapshot().total(CallOutcome.OPEN)).isEqualTo(1);
  }

  @Test
  void executeWithoutFallbackThrowsAPreallocatedExceptionNamingBreakerAndState() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    fail(b, 20);
    CallNotPermittedException first = null;
    for (int i = 0; i < 2; i++) {
      try {
        b.execute(() -> "x");
      } catch (CallNotPermittedException e) {
        if (first == null) {
          first = e;
        } else {
          assertThat(e).isSameAs(first);
        }
      }
    }
    assertThat(first).isNotNull().hasMessage("breaker 'test' is OPEN; the call was not made");
    assertThat(first.getStackTrace()).isEmpty();
    assertThat(first.state()).isEqualTo(State.OPEN);
    assertThat(first.breakerName()).isEqualTo("test");
  }

  @Test
  void executeRecordsExceptionsAndRethrows() {
    CircuitBreaker b = breaker(BreakerConfig.builder().minimumCalls(2).build());
    assertThatThrownBy(() -> b.execute(() -> {
      throw new IllegalStateException("down");
    }, () -> "fallback")).hasMessage("down");
    assertThat(b.execute(() -> "ok", () -> "fallback")).isEqualTo("ok");
    assertThat(b.state()).isEqualTo(State.OPEN); // 1 of 2 failed
    assertThat(b.decorate(() -> "ok", () -> "fallback").get()).isEqualTo("fallback");
  }

  @Test
  void reconfigureChangesThresholdsInPlace() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    succeed(b, 15);
    fail(b, 5);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 25%
    b.reconfigure(BreakerConfig.builder().failureRateThreshold(25).build());
    assertThat(b.snapshot().callsInWindow()).as("same window layout: counts kept").isEqualTo(20);
    fail(b, 1); // 6 of 21 = 28.6%
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.config().failureRateThreshold()).isEqualTo(25);
    b.reset();
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void anOperatorCanForceItOpenThenProbesDecideAsUsual() {
    CircuitBreaker b = breaker(BreakerConfig.builder().openDuration(Duration.ofSeconds(5)).build());
    List<String> transitions = new ArrayList<>();
    b.addListener(new BreakerListener() {
      @Override
      public void onStateTransition(String name, State from, State to) {
        transitions.add(from + "->" + to);
      }
    });
    b.forceOpen();
    b.forceOpen(); // already open: nothing happens
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.execute(() -> "called", () -> "refused")).isEqualTo("refused");
    ticker.advance(Duration.ofSeconds(5));
    assertThat(b.execute(() -> "called", () -> "refused")).isEqualTo("called");
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN");
    b.forceOpen();
    b.reset();
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void listenersHearTransitionsAndAThrowingListenerBreaksNothing() {
    CircuitBreaker b = breaker(BreakerConfig.ofDefaults());
    List<String> transitions = new ArrayList<>();
    b.addListener(new BreakerListener() {
      @Override
      public void onStateTransition(String name, State from, State to) {
        transitions.add(name + ":" + from + "->" + to);
      }
    });
    b.addListener(new BreakerListener() {
      @Override
      public void onCall(String name, CallOutcome outcome, long durationNanos) {
        throw new IllegalStateException("listener bug");
      }
    });
    fail(b, 20);
    ticker.advance(Duration.ofSeconds(5));
    succeed(b, 5);
    assertThat(transitions).containsExactly("test:CLOSED->OPEN", "test:OPEN->HALF_OPEN", "test:HALF_OPEN->CLOSED");
    assertThat(b.listeners().failures()).isEqualTo(25);
  }
}
