package io.giftkit.shard;

import static io.giftkit.shard.SlowSqlBreakerState.CLOSED;
import static io.giftkit.shard.SlowSqlBreakerState.HALF_OPEN;
import static io.giftkit.shard.SlowSqlBreakerState.OPEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.FakeTicker;
import io.giftkit.core.Listeners;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The state machine of one (template, shard), driven by a fake ticker: no database, no sleeping. */
class TemplateBreakerTest {

  static final long SLOW = Duration.ofMillis(200).toNanos();
  static final String SQL = "SELECT  order_id FROM {table}\n WHERE uid = ?";

  final FakeTicker ticker = new FakeTicker();
  final List<String> heard = new ArrayList<>();
  final SlowSqlBreakerConfig config = SlowSqlBreakerConfig.builder().slowCallRateThreshold(50).minimumCalls(4)
      .window(Duration.ofSeconds(10)).openDuration(Duration.ofSeconds(5)).halfOpenProbes(2).build();
  final TemplateBreaker breaker = new TemplateBreaker("T", 3, config, ticker,
      (b, from, to, rate, generation) -> heard.add(from + ">" + to + "@" + Math.round(rate) + "#" + generation));

  void call(boolean slow) {
    breaker.record(breaker.acquire(SLOW), slow);
  }

  @Test
  void opensOnlyOnceTheWindowHoldsMinimumCallsAndTheRateReachesTheThreshold() {
    call(true);
    call(true);
    call(true);
    assertThat(breaker.state()).as("3 slow calls, below minimumCalls 4").isEqualTo(CLOSED);
    call(false); // 3 of 4 slow: the pending judgement is made on a fast call
    assertThat(breaker.state()).isEqualTo(OPEN);
    assertThat(heard).containsExactly("CLOSED>OPEN@75#1");
  }

  @Test
  void aRateBelowTheThresholdStaysClosedAndOldCallsAgeOut() {
    for (int i = 0; i < 10; i++) {
      call(false);
    }
    call(true);
    call(true);
    call(true);
    call(true); // 4 of 14 slow: 29 %
    assertThat(breaker.state()).isEqualTo(CLOSED);
    ticker.advance(Duration.ofSeconds(11)); // the window is empty again
    call(true);
    call(true);
    call(true);
    assertThat(breaker.state()).as("3 calls in the window, below minimumCalls").isEqualTo(CLOSED);
    call(true);
    assertThat(breaker.state()).isEqualTo(OPEN);
  }

  @Test
  void openRefusesWithTheStateUntilTheCooldownThenProbesDecide() {
    trip();
    ticker.advance(Duration.ofMillis(1_500));
    assertThatThrownBy(() -> breaker.acquire(SLOW)).isInstanceOfSatisfying(SlowSqlRejectedException.class, e -> {
      assertThat(e).hasMessage("slow-SQL breaker of template \"T\" on shard 3 is OPEN (slow-call rate 100.0%),"
          + " cooldown left 3500ms; the statement was not run");
      assertThat(e.getStackTrace()).isEmpty();
      assertThat(e.template()).isEqualTo("T");
      assertThat(e.shard()).isEqualTo(3);
      assertThat(e.state()).isEqualTo(OPEN);
      assertThat(e.remainingCooldown()).isEqualTo(Duration.ofMillis(3_500));
    });
    ticker.advance(Duration.ofMillis(3_500));
    long p1 = breaker.acquire(SLOW);
    long p2 = breaker.acquire(SLOW);
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    assertThatThrownBy(() -> breaker.acquire(SLOW)).hasMessage("slow-SQL breaker of template \"T\" on shard 3 is"
        + " HALF_OPEN with all 2 probe call(s) running; the statement was not run");
    breaker.record(p1, false);
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    breaker.record(p2, false);
    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(heard).containsExactly("CLOSED>OPEN@100#1", "OPEN>HALF_OPEN@100#2", "HALF_OPEN>CLOSED@0#3");
    assertThat(breaker.rejections()).isEqualTo(2);
    call(true);
    call(true);
    call(true);
    assertThat(breaker.state()).as("closing started a fresh window").isEqualTo(CLOSED);
  }

  @Test
  void aSlowProbeReopens() {
    trip();
    ticker.advance(Duration.ofSeconds(5));
    long p1 = breaker.acquire(SLOW);
    breaker.record(p1, false);
    long p2 = breaker.acquire(SLOW);
    breaker.record(p2, true);
    assertThat(breaker.state()).isEqualTo(OPEN);
    assertThat(heard).endsWith("HALF_OPEN>OPEN@50#3");
    assertThat(breaker.snapshot().remainingCooldown()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aProbeThatHangsReopensOnceItHasRunTheSlowThresholdAndItsLateAnswerMovesNothing() {
    trip();
    ticker.advance(Duration.ofSeconds(5));
    long p1 = breaker.acquire(SLOW);
    long p2 = breaker.acquire(SLOW);
    breaker.record(p1, false);
    ticker.advance(Duration.ofMillis(199));
    assertThatThrownBy(() -> breaker.acquire(SLOW)).isInstanceOf(SlowSqlRejectedException.class);
    ticker.advance(Duration.ofMillis(1));
    assertThatThrownBy(() -> breaker.acquire(SLOW)).as("p2 has run 200 ms: slow, so the breaker re-opened")
        .hasMessageContaining("is OPEN");
    assertThat(heard).endsWith("HALF_OPEN>OPEN@50#3");
    breaker.record(p2, false); // the hung probe answers at last, fast by its own clock
    assertThat(breaker.state()).isEqualTo(OPEN);
    assertThat(heard).hasSize(3);
  }

  @Test
  void outcomesOfCallsAdmittedBeforeATripAreIgnored() {
    long early = breaker.acquire(SLOW);
    trip();
    ticker.advance(Duration.ofSeconds(5));
    long probe = breaker.acquire(SLOW);
    breaker.record(early, true); // admitted while CLOSED: does not re-open the half-open breaker
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    breaker.record(probe, false);
    breaker.record(breaker.acquire(SLOW), false);
    assertThat(breaker.state()).isEqualTo(CLOSED);
  }

  @Test
  void theRegistryIsBoundedAndKeysByTemplateAndShard() {
    List<String> events = new ArrayList<>();
    Listeners<SlowSqlBreakerListener> listeners = Listeners.create("test");
    listeners.add((t, s, from, to, rate) -> {
      throw new IllegalStateException("a listener that throws");
    });
    listeners.add((t, s, from, to, rate) -> events.add(t + "|" + s + "|" + from + ">" + to));
    SlowSqlBreakers breakers = new SlowSqlBreakers(SlowSqlBreakerConfig.builder().minimumCalls(2).maxTemplates(2)
        .build(), 4, ticker, listeners);
    for (int i = 0; i < 2; i++) {
      breakers.record(SQL, 1, breakers.acquire(SQL, 1, SLOW), true);
    }
    assertThatThrownBy(() -> breakers.acquire(SQL, 1, SLOW)).isInstanceOf(SlowSqlRejectedException.class)
        .hasMessageStartingWith("slow-SQL breaker of template \"SELECT order_id FROM {table} WHERE uid = ?\" on shard 1");
    assertThat(breakers.acquire(SQL, 2, SLOW)).as("the same template on another shard").isNotNegative();
    assertThat(breakers.acquire("SELECT 2 FROM {table}", 1, SLOW)).as("another template on the shard").isNotNegative();
    assertThat(breakers.acquire("SELECT 3 FROM {table}", 1, SLOW)).as("a third template is beyond maxTemplates")
        .isEqualTo(SlowSqlBreakers.UNGUARDED);
    assertThat(breakers.untracked()).isEqualTo(1);
    assertThat(breakers.trackedTemplates()).isEqualTo(2);
    assertThat(breakers.rejections()).isEqualTo(1);
    assertThat(breakers.trips()).isEqualTo(1);
    assertThat(events).containsExactly("SELECT order_id FROM {table} WHERE uid = ?|1|CLOSED>OPEN");
    assertThat(listeners.failures()).isEqualTo(1);
    assertThat(breakers.notClosed()).singleElement().satisfies(s -> {
      assertThat(s.shard()).isEqualTo(1);
      assertThat(s.state()).isEqualTo(OPEN);
      assertThat(s.slowCallRate()).isEqualTo(100.0);
      assertThat(s.rejections()).isEqualTo(1);
    });
    assertThat(breakers.notClosed(1)).isEqualTo(1);
    assertThat(breakers.notClosed(2)).isZero();

    assertThat(breakers.forceClose("SELECT order_id FROM {table} WHERE uid = ?")).as("by the template as shown").isEqualTo(1);
    assertThat(breakers.notClosed()).isEmpty();
    assertThat(events).endsWith("SELECT order_id FROM {table} WHERE uid = ?|1|OPEN>CLOSED");
    assertThat(breakers.acquire(SQL, 1, SLOW)).isNotNegative();
    assertThat(breakers.forceClose(SQL)).as("already closed").isZero();
  }

  private void trip() {
    for (int i = 0; i < 4; i++) {
      call(true);
    }
    assertThat(breaker.state()).isEqualTo(OPEN);
  }
}
