package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.junit.jupiter.api.Test;

/** The supervisor's decisions, without a broker (its restarts are proven on one in {@code ConsumerSupervisionTest}). */
class SupervisorTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  @Test
  void theDelayDoublesFromTheFirstUpToTheCap() {
    Supervisor s = new Supervisor("t", Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(30));
    assertThat(new long[] {s.delayNanos(1), s.delayNanos(2), s.delayNanos(3), s.delayNanos(5), s.delayNanos(6),
        s.delayNanos(40)}).containsExactly(SECOND, 2 * SECOND, 4 * SECOND, 16 * SECOND, 30 * SECOND, 30 * SECOND);
  }

  @Test
  void restartsInARowRunOutAndALongRunStartsTheCountAgain() {
    Supervisor s = new Supervisor("t", 3, Duration.ofSeconds(1), Duration.ofSeconds(30));
    RuntimeException boom = new IllegalStateException("boom");
    assertThat(s.next(boom, 0, SECOND)).isEqualTo(1);
    assertThat(s.next(boom, 2, SECOND)).isEqualTo(3);
    assertThat(s.next(boom, 3, SECOND)).as("a fourth restart in a row").isEqualTo(-1);
    assertThat(s.next(boom, 3, 31 * SECOND)).as("ran longer than the cap: the count starts again").isEqualTo(1);
    assertThat(s.next(new OutOfMemoryError(), 0, 0)).as("a VirtualMachineError is restarted").isEqualTo(1);
    assertThat(new Supervisor("t", 0, Duration.ofSeconds(1), Duration.ofSeconds(1)).next(boom, 0, 0)).isEqualTo(-1);
  }

  /** A restart pending at close is handed back to be settled; one scheduled after close runs at once (and settles). */
  @Test
  void closeHandsBackPendingRestartsAndARestartAfterCloseRunsAtOnce() {
    Supervisor s = new Supervisor("t", Integer.MAX_VALUE, Duration.ofSeconds(30), Duration.ofSeconds(30));
    java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
    Runnable restart = ran::incrementAndGet;
    s.schedule(1, restart);
    assertThat(s.close()).containsExactly(restart);
    assertThat(ran).as("not run by the scheduler").hasValue(0);
    s.schedule(1, ran::incrementAndGet);
    assertThat(ran).hasValue(1);
    assertThat(s.restarts()).isEqualTo(2);
  }

  @Test
  void whatARestartCannotFixIsNotRestarted() {
    Supervisor s = new Supervisor("t", Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(30));
    assertThat(s.next(new ConfigException("security.protocol", "NOPE"), 0, 0)).isEqualTo(-1);
    assertThat(s.next(new InvalidTopicException("bad topic"), 0, 0)).isEqualTo(-1);
    assertThat(s.next(io.giftkit.core.Checks.invalid("x", "must be set", null), 0, 0)).isEqualTo(-1);
  }
}
