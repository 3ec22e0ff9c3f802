package io.giftkit.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The closed path of {@link CircuitBreaker} and the open path of {@link LatencyBreaker} (a cached
 * fallback) allocate nothing, measured with the JVM's per-thread allocation counter.
 */
class AllocationTest {

  private static final Object VALUE = new Object();
  private static final Supplier<Object> CALL = () -> VALUE;
  private static final Supplier<Object> FALLBACK = () -> null;
  private static final int CALLS = 200_000;

  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  @Test
  void closedPathAllocatesNothing() {
    CircuitBreaker b = CircuitBreaker.of("alloc", BreakerConfig.ofDefaults());
    for (int i = 0; i < CALLS; i++) { // warm up: buckets, striped counters, JIT
      b.execute(CALL, FALLBACK);
    }
    long before = allocatedBytes();
    for (int i = 0; i < CALLS; i++) {
      b.execute(CALL, FALLBACK);
    }
    long perCall = (allocatedBytes() - before) / CALLS;
    assertThat(perCall).isZero();
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void openPathWithACachedValueAllocatesNothing() {
    try (LatencyBreaker<Object> b = LatencyBreaker.builder("alloc-open")
        .config(BreakerConfig.builder().timeout(Duration.ofSeconds(5)).minimumCalls(2).build()).build()) {
      b.call("uid", CALL);
      for (int i = 0; i < 2; i++) {
        b.call("uid", () -> {
          throw new IllegalStateException("down");
        });
      }
      assertThat(b.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
      for (int i = 0; i < CALLS; i++) {
        b.call("uid", CALL);
      }
      long before = allocatedBytes();
      for (int i = 0; i < CALLS; i++) {
        b.call("uid", CALL);
      }
      long perCall = (allocatedBytes() - before) / CALLS;
      assertThat(perCall).isZero();
      assertThat(b.call("uid", CALL).value()).isSameAs(VALUE);
    }
  }
}
