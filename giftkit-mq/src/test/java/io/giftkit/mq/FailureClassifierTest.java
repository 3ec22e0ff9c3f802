package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.mq.FailureClassifier.Kind;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** Classification and the retry delays, without a broker (the behaviour is proven on one in {@code RetryClassificationTest}). */
class FailureClassifierTest {

  private final FailureClassifier defaults = new FailureClassifier(List.of(), List.of());

  @Test
  void validationAndDeserializationErrorsAreNotRetried() {
    assertThat(defaults.classify(new IllegalArgumentException("amount must be positive"))).isEqualTo(Kind.NON_RETRYABLE);
    assertThat(defaults.classify(new NumberFormatException("x"))).isEqualTo(Kind.NON_RETRYABLE);
    assertThat(defaults.classify(new SerializationException("bad bytes"))).isEqualTo(Kind.NON_RETRYABLE);
    assertThat(defaults.classify(new IllegalStateException("wrapped", new ClassCastException()))).isEqualTo(Kind.NON_RETRYABLE);
    assertThat(defaults.classify(new java.sql.SQLDataException("Data too long", "22001", 1406))).isEqualTo(Kind.NON_RETRYABLE);
  }

  @Test
  void deadlocksReadOnlyLockWaitsAndTimeoutsAreTransient() {
    assertThat(defaults.classify(new SQLTransactionRollbackException("Deadlock found", "40001", 1213))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLException("Deadlock found", "HY000", 1213))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLException("Lock wait timeout exceeded", "HY000", 1205))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLException("running with the --read-only option", "HY000", 1290))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLException("deadlock detected", "40P01"))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLException("Communications link failure", "08S01"))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new SQLTransientConnectionException("pool timeout"))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new RuntimeException("ledger", new TimeoutException("slow")))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new java.net.SocketTimeoutException("read timed out"))).isEqualTo(Kind.TRANSIENT);
    assertThat(defaults.classify(new org.apache.kafka.common.errors.TimeoutException("metadata"))).isEqualTo(Kind.TRANSIENT);
  }

  @Test
  void anythingElseIsRetriedAFixedNumberOfTimes() {
    assertThat(defaults.classify(new IllegalStateException("settlement says no"))).isEqualTo(Kind.OTHER);
    assertThat(defaults.classify(new SQLException("Table doesn't exist", "42S02", 1146))).isEqualTo(Kind.OTHER);
    assertThat(defaults.classify(new AssertionError("x"))).isEqualTo(Kind.OTHER);
  }

  @Test
  void theUsersClassesComeFirstOutermostFirst() {
    FailureClassifier c = new FailureClassifier(List.of(UnsupportedOperationException.class),
        List.of(IllegalArgumentException.class));
    assertThat(c.classify(new UnsupportedOperationException())).isEqualTo(Kind.NON_RETRYABLE);
    assertThat(c.classify(new IllegalArgumentException("a service's validation, flaky"))).isEqualTo(Kind.TRANSIENT);
    assertThat(c.classify(new UnsupportedOperationException("outer", new TimeoutException()))).isEqualTo(Kind.NON_RETRYABLE);
  }

  @Test
  void transientDelaysDoubleWithJitterAndStopAtTheBudget() {
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    RetryPolicy p = new RetryPolicy(defaults, 3, 100 * ms, 1_000 * ms, Duration.ofSeconds(5).toNanos());
    SQLException deadlock = new SQLTransactionRollbackException("Deadlock found", "40001", 1213);
    for (int attempt = 1; attempt <= 6; attempt++) {
      long full = Math.min(100L << (attempt - 1), 1_000) * ms;
      assertThat(p.nextDelayNanos(deadlock, attempt, 0)).isBetween(full / 2, full);
    }
    assertThat(p.nextDelayNanos(deadlock, 50, 0)).as("far past maxAttempts: the budget decides").isPositive();
    assertThat(p.nextDelayNanos(deadlock, 10, 4_900 * ms)).as("the last attempt at the end of the budget")
        .isLessThanOrEqualTo(100 * ms);
    assertThat(p.nextDelayNanos(deadlock, 10, 5_000 * ms)).isEqualTo(-1);
    assertThat(p.nextDelayNanos(new IllegalStateException(), 2, 0)).isEqualTo(200 * ms);
    assertThat(p.nextDelayNanos(new IllegalStateException(), 3, 0)).isEqualTo(-1);
    assertThat(p.nextDelayNanos(new IllegalArgumentException(), 1, 0)).isEqualTo(-1);
  }
}
