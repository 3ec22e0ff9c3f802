package io.giftkit.mq.recheck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.testing.MariaDbExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against a real MariaDB. */
class DelayedRecheckTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static HikariDataSource db;
  private final List<DelayedRecheck> schedulers = new ArrayList<>();

  @BeforeAll
  static void database() throws SQLException {
    db = io.giftkit.mq.TestPools.pool(MARIADB, 8);
    DelayedRecheck.builder("ddl", db).handler((k, a) -> RecheckResult.resolved()).build().createTable();
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }

  @AfterEach
  void stop() {
    schedulers.forEach(DelayedRecheck::close);
  }

  private DelayedRecheck.Builder builder(String name, RecheckHandler handler) {
    return DelayedRecheck.builder(name, db).handler(handler).pollInterval(Duration.ofMillis(20));
  }

  private DelayedRecheck started(DelayedRecheck.Builder builder) {
    DelayedRecheck r = builder.build();
    schedulers.add(r);
    r.start();
    return r;
  }

  @Test
  void aCheckRunsOnlyAfterItsDelayAndIsRemovedWhenResolved() throws Exception {
    Map<String, Long> ranAt = new ConcurrentHashMap<>();
    DelayedRecheck recheck = started(builder("delay", (key, attempt) -> {
      ranAt.put(key, System.currentTimeMillis());
      return RecheckResult.resolved();
    }));
    long scheduledAt = System.currentTimeMillis();
    assertThat(recheck.schedule("order-1", Duration.ofMillis(700))).isTrue();
    assertThat(recheck.schedule("order-1", Duration.ofMillis(1))).as("already pending: left as it was").isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> recheck.resolved() == 1);
    assertThat(ranAt.get("order-1") - scheduledAt).isGreaterThanOrEqualTo(700);
    assertThat(recheck.pending()).isZero();
    assertThat(recheck.scheduled()).isEqualTo(1);
    assertThat(recheck.schedule("order-1", Duration.ZERO)).as("resolved checks are removed: schedulable again").isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> recheck.resolved() == 2);
  }

  @Test
  void theScheduleSurvivesARestartOfTheScheduler() throws Exception {
    DelayedRecheck before = started(builder("restart", (key, attempt) -> {
      throw new AssertionError("the first scheduler must be gone before anything is due");
    }));
    for (int i = 0; i < 20; i++) {
      before.schedule("order-" + i, Duration.ofMillis(1_500));
    }
    before.close();
    assertThat(before.failures()).isZero();

    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    DelayedRecheck after = started(builder("restart", (key, attempt) -> {
      runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return RecheckResult.resolved();
    }));
    await().atMost(Duration.ofSeconds(15)).until(() -> after.resolved() == 20);
    assertThat(runs).hasSize(20).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
    assertThat(after.pending()).isZero();
  }

  @Test
  void twoSchedulersRacingOverOneTableRunEachCheckOnce() throws Exception {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    RecheckHandler counting = (key, attempt) -> {
      runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return RecheckResult.resolved();
    };
    DelayedRecheck a = builder("race", counting).batchSize(10).build();
    DelayedRecheck b = builder("race", counting).batchSize(10).build();
    schedulers.add(a);
    schedulers.add(b);
    for (int i = 0; i < 400; i++) {
      a.schedule("order-" + i, Duration.ZERO);
    }
    a.start();
    b.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> a.resolved() + b.resolved() == 400);
    assertThat(runs).hasSize(400).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
    assertThat(a.resolved()).as("both took part").isPositive();
    assertThat(b.resolved()).as("both took part").isPositive();
    assertThat(a.lostLeases() + b.lostLeases()).isZero();
    assertThat(a.pending()).isZero();
  }

  /**
   * concurrency(n): n checks of one scheduler run at once (the first n handler calls meet at a barrier
   * that only n parties can pass), never more; two such schedulers on one table still run each
   * check once, and the rows are gone.
   */
  @Test
  void checksRunSideBySideUpToTheConcurrencyAndEachStillOnce() throws Exception {
    int lanes = 4;
    java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(lanes);
    AtomicInteger metAtBarrier = new AtomicInteger();
    AtomicInteger inFlightA = new AtomicInteger();
    AtomicInteger maxInFlightA = new AtomicInteger();
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    RecheckHandler a = (key, attempt) -> {
      int now = inFlightA.incrementAndGet();
      maxInFlightA.accumulateAndGet(now, Math::max);
      try {
        if (key.equals("lanes-0") || key.equals("lanes-1") || key.equals("lanes-2") || key.equals("lanes-3")) {
          together.await(20, java.util.concurrent.TimeUnit.SECONDS); // needs 4 running at once
          metAtBarrier.incrementAndGet();
        }
        runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        return RecheckResult.resolved();
      } finally {
        inFlightA.decrementAndGet();
      }
    };
    RecheckHandler b = (key, attempt) -> {
      runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return RecheckResult.resolved();
    };
    DelayedRecheck first = builder("lanes", a).concurrency(lanes).batchSize(50).build();
    schedulers.add(first);
    for (int i = 0; i < 4; i++) {
      first.schedule("lanes-" + i, Duration.ZERO);
    }
    first.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> first.resolved() == 4);
    assertThat(metAtBarrier.get()).as("four handler calls at once").isEqualTo(4);
    DelayedRecheck second = started(builder("lanes", b).concurrency(3).batchSize(20));
    for (int i = 4; i < 600; i++) {
      first.schedule("lanes-" + i, Duration.ofMillis(800)); // both schedulers are polling when these come due
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> first.resolved() + second.resolved() == 600);
    assertThat(runs).hasSize(600).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
    assertThat(maxInFlightA.get()).as("never more than its concurrency").isBetween(1, lanes);
    assertThat(second.resolved()).as("both took part").isPositive();
    assertThat(first.lostLeases() + second.lostLeases()).isZero();
    assertThat(first.pending()).isZero();
    assertThatThrownBy(() -> builder("x", a).concurrency(0)).hasMessage("concurrency must be in [1, 256], but was 0");
  }

  /** With lanes, outcomes are written in groups: retries, alerts and resolutions all land, each once. */
  @Test
  void groupedOutcomesRetryAlertAndResolveAsOneAtATimeDoes() throws Exception {
    List<RecheckAlert> heard = new CopyOnWriteArrayList<>();
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    DelayedRecheck recheck = started(builder("grouped", (key, attempt) -> {
      calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      if (key.startsWith("pending-")) {
        return RecheckResult.retryLater("payment still pending");
      }
      if (key.startsWith("paid-no-order-")) {
        return RecheckResult.alert("paid at the provider, no order");
      }
      if (key.startsWith("throws-")) {
        throw new IllegalStateException("provider unreachable");
      }
      return RecheckResult.resolved();
    }).concurrency(4).maxAttempts(2).retryDelay(Duration.ofMillis(50)).alertListener(heard::add));
    for (int i = 0; i < 10; i++) {
      recheck.schedule("pending-" + i, Duration.ZERO);
      recheck.schedule("paid-no-order-" + i, Duration.ZERO);
      recheck.schedule("throws-" + i, Duration.ZERO);
      recheck.schedule("settled-" + i, Duration.ZERO);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> heard.size() == 30 && recheck.resolved() == 10);
    assertThat(calls).hasSize(40);
    assertThat(calls).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(k.startsWith("pending-")
        || k.startsWith("throws-") ? 2 : 1));
    assertThat(recheck.retried()).as("first attempts of pending and throwing checks").isEqualTo(20);
    assertThat(recheck.alerted()).isEqualTo(30);
    assertThat(recheck.alerts()).hasSize(30);
    assertThat(recheck.pending()).isZero();
    assertThat(recheck.lostLeases()).isZero();
  }

  @Test
  void anUnsettledCheckIsRetriedAFixedNumberOfTimesThenAlerted() throws Exception {
    List<RecheckAlert> heard = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    DelayedRecheck recheck = started(builder("bounded", (key, attempt) -> {
      calls.incrementAndGet();
      return RecheckResult.retryLater("payment still pending");
    }).maxAttempts(3).retryDelay(Duration.ofMillis(100)).alertListener(heard::add));
    recheck.schedule("order-7", Duration.ZERO);
    await().atMost(Duration.ofSeconds(10)).until(() -> heard.size() == 1);
    assertThat(calls).hasValue(3);
    assertThat(recheck.retried()).isEqualTo(2);
    RecheckAlert alert = heard.get(0);
    assertThat(alert.key()).isEqualTo("order-7");
    assertThat(alert.attempts()).isEqualTo(3);
    assertThat(alert.reason()).isEqualTo("unsettled after 3 attempts: payment still pending");
    assertThat(recheck.alerts()).singleElement().satisfies(a -> {
      assertThat(a.key()).isEqualTo("order-7");
      assertThat(a.reason()).isEqualTo(alert.reason());
    });
    assertThat(recheck.pending()).isZero();
    assertThat(recheck.schedule("order-7", Duration.ZERO)).as("an alerted key stays until acknowledged").isFalse();
    assertThat(recheck.acknowledge("order-7")).isTrue();
    assertThat(recheck.alerts()).isEmpty();
    assertThat(calls).as("alerted checks never run again").hasValue(3);
  }

  @Test
  void aHandlerCanAlertAtOnceAndAThrowingHandlerCountsAsRetryLater() throws Exception {
    List<RecheckAlert> heard = new CopyOnWriteArrayList<>();
    DelayedRecheck recheck = started(builder("outcomes", (key, attempt) -> {
      if (key.equals("paid-no-order")) {
        return RecheckResult.alert("paid at the payment service, no order recorded");
      }
      if (key.equals("error")) {
        throw new AssertionError("an Error is contained like an exception");
      }
      throw new IllegalStateException("payment service unreachable");
    }).maxAttempts(2).retryDelay(Duration.ofMillis(50)).alertListener(heard::add)
        .alertListener(a -> {
          throw new IllegalStateException("a broken listener must not stop the others");
        }));
    recheck.schedule("paid-no-order", Duration.ZERO);
    recheck.schedule("unreachable", Duration.ZERO);
    recheck.schedule("error", Duration.ZERO);
    await().atMost(Duration.ofSeconds(10)).until(() -> heard.size() == 3);
    assertThat(heard).extracting(RecheckAlert::key, RecheckAlert::attempts, RecheckAlert::reason)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("paid-no-order", 1, "paid at the payment service, no order recorded"),
            org.assertj.core.groups.Tuple.tuple("unreachable", 2,
                "unsettled after 2 attempts: failed: java.lang.IllegalStateException: payment service unreachable"),
            org.assertj.core.groups.Tuple.tuple("error", 2,
                "unsettled after 2 attempts: failed: java.lang.AssertionError: an Error is contained like an exception"));
    assertThat(recheck.failures()).isEqualTo(4);
    assertThat(recheck.alerted()).isEqualTo(3);
    assertThat(recheck.state()).as("the scheduler survived the Error").isEqualTo(DelayedRecheck.State.RUNNING);
  }

  @Test
  void aCheckWhoseSchedulerDiedMidCheckIsTakenOverWhenTheLeaseEnds() throws Exception {
    DelayedRecheck recheck = builder("died", (key, attempt) -> RecheckResult.resolved()).build();
    schedulers.add(recheck);
    recheck.schedule("order-9", Duration.ZERO);
    long leaseEnd = System.currentTimeMillis() + 1_000;
    try (java.sql.Connection c = db.getConnection(); java.sql.Statement s = c.createStatement()) {
      // what a scheduler's claim leaves behind when its process dies before writing the outcome
      assertThat(s.executeUpdate("UPDATE giftkit_recheck SET owner = 'dead-scheduler', attempts = 1, due_at = "
          + leaseEnd + " WHERE scheduler = 'died' AND check_key = 'order-9'")).isEqualTo(1);
    }
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    Map<String, Long> ranAt = new ConcurrentHashMap<>();
    DelayedRecheck other = started(builder("died", (key, attempt) -> {
      attempts.add(attempt);
      ranAt.put(key, System.currentTimeMillis());
      return RecheckResult.resolved();
    }));
    await().atMost(Duration.ofSeconds(10)).until(() -> other.resolved() == 1);
    assertThat(attempts).containsExactly(2);
    assertThat(ranAt.get("order-9")).as("not before the dead scheduler's lease ended").isGreaterThanOrEqualTo(leaseEnd);
  }

  /**
   * Item 7 of issue 16: a check whose handler takes longer than the lease on scheduler A is
   * interrupted within A's lease, so it never runs on A and B at once, and its outcome is written once.
   */
  @Test
  void aCheckLongerThanTheLeaseNeverRunsOnTwoSchedulersAtOnce() throws Exception {
    record Run(String scheduler, int attempt, long start, long end) {}
    List<Run> runs = new CopyOnWriteArrayList<>();
    CountDownLatch firstStarted = new CountDownLatch(1);
    java.util.function.Function<String, RecheckHandler> handler = scheduler -> (key, attempt) -> {
      long start = System.nanoTime();
      try {
        if (attempt == 1) {
          firstStarted.countDown();
          new CountDownLatch(1).await(5, TimeUnit.SECONDS); // 5 s of work: five times the 1 s lease
        }
        return RecheckResult.resolved();
      } finally {
        runs.add(new Run(scheduler, attempt, start, System.nanoTime()));
      }
    };
    DelayedRecheck a = started(builder("overlap", handler.apply("A")).lease(Duration.ofSeconds(1))
        .retryDelay(Duration.ofMillis(200)));
    a.schedule("order-5", Duration.ZERO);
    assertThat(firstStarted.await(10, TimeUnit.SECONDS)).as("A runs the first attempt").isTrue();
    DelayedRecheck b = started(builder("overlap", handler.apply("B")).lease(Duration.ofSeconds(1))
        .retryDelay(Duration.ofMillis(200)));

    await().atMost(Duration.ofSeconds(15)).until(() -> a.resolved() + b.resolved() == 1 && runs.size() >= 2);
    assertThat(runs).extracting(Run::attempt).containsExactlyInAnyOrder(1, 2);
    Run first = runs.stream().filter(r -> r.attempt() == 1).findFirst().orElseThrow();
    Run second = runs.stream().filter(r -> r.attempt() == 2).findFirst().orElseThrow();
    assertThat(first.scheduler()).isEqualTo("A");
    assertThat(second.start()).as("attempt 2 (on %s) starts after attempt 1 ended", second.scheduler())
        .isGreaterThan(first.end());
    assertThat(TimeUnit.NANOSECONDS.toMillis(first.end() - first.start())).as("stopped within the lease")
        .isLessThan(1_000);
    assertThat(a.timeouts()).as("A's first attempt ran out of checkTimeout (750 ms)").isEqualTo(1);
    assertThat(a.resolved() + b.resolved()).isEqualTo(1);
    assertThat(a.retried()).as("A wrote its failed attempt, once").isEqualTo(1);
    assertThat(a.lostLeases() + b.lostLeases()).isZero();
    assertThat(a.abandoned()).isZero();
    assertThat(a.pending()).isZero();
    // nothing else runs later: the row is gone
    assertThat(runs).hasSize(2);
  }

  @Test
  void aHandlerThatIgnoresTheInterruptIsAbandonedAndTheSchedulerGoesOn() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
    List<String> ranOn = new CopyOnWriteArrayList<>();
    DelayedRecheck recheck = started(builder("stubborn", (key, attempt) -> {
      ranOn.add(key + "@" + Thread.currentThread().getName());
      if (key.equals("stubborn") && attempt == 1) {
        while (!release.get()) {
          java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // ignores interrupts on purpose
        }
      }
      return RecheckResult.resolved();
    }).lease(Duration.ofSeconds(1)).retryDelay(Duration.ofMinutes(1)));
    try {
      recheck.schedule("stubborn", Duration.ZERO);
      await().atMost(Duration.ofSeconds(10)).until(() -> recheck.abandoned() == 1);
      recheck.schedule("next", Duration.ZERO);
      await().atMost(Duration.ofSeconds(10)).until(() -> recheck.resolved() == 1);
      assertThat(recheck.timeouts()).isEqualTo(1);
      assertThat(recheck.retried()).isEqualTo(1);
      assertThat(ranOn).hasSize(2);
      assertThat(ranOn.get(1)).as("a new helper thread").startsWith("next@").isNotEqualTo(
          "next@" + ranOn.get(0).substring("stubborn@".length()));
    } finally {
      release.set(true);
    }
  }

  @Test
  void aCheckScheduledInTheCallersTransactionLivesOrDiesWithItAndCanBeCancelled() throws Exception {
    DelayedRecheck recheck = builder("tx", (key, attempt) -> RecheckResult.resolved()).build(); // not started
    schedulers.add(recheck);
    try (java.sql.Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      assertThat(recheck.schedule(c, "rolled-back", Duration.ofMinutes(1))).isTrue();
      c.rollback();
      assertThat(recheck.schedule(c, "committed", Duration.ofMinutes(1))).isTrue();
      c.commit();
    }
    assertThat(recheck.pending()).as("only the committed one").isEqualTo(1);
    assertThat(recheck.cancel("rolled-back")).isFalse();
    assertThat(recheck.cancel("committed")).isTrue();
    assertThat(recheck.pending()).isZero();

    recheck.schedule("paid", Duration.ofMinutes(1));
    try (java.sql.Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      assertThat(recheck.cancel(c, "paid")).isTrue();
      c.rollback();
      assertThat(recheck.pending()).as("a cancel rolled back with its transaction").isEqualTo(1);
      assertThat(recheck.cancel(c, "paid")).isTrue();
      c.commit();
    }
    assertThat(recheck.pending()).as("a cancel committed with its transaction").isZero();
  }

  /** A wall clock the test moves by hand. */
  static final class SettableClock extends java.time.Clock {
    private final java.util.concurrent.atomic.AtomicLong millis;

    SettableClock(long millis) {
      this.millis = new java.util.concurrent.atomic.AtomicLong(millis);
    }

    void set(long to) {
      millis.set(to);
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.ofEpochMilli(millis.get());
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private static long dueAt(String scheduler, String key) throws SQLException {
    try (java.sql.Connection c = db.getConnection(); java.sql.PreparedStatement ps = c.prepareStatement(
        "SELECT due_at FROM giftkit_recheck WHERE scheduler = ? AND check_key = ?")) {
      ps.setString(1, scheduler);
      ps.setString(2, key);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("the row of %s", key).isTrue();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void unsettledAttemptsBackOffExponentiallyWithJitterUpToTheCap() throws Exception {
    SettableClock clock = new SettableClock(1_900_000_000_000L);
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    DelayedRecheck recheck = started(builder("backoff", (key, attempt) -> {
      attempts.add(attempt);
      return RecheckResult.retryLater("payment still pending");
    }).maxAttempts(10).retryBackoff(Duration.ofSeconds(10), Duration.ofSeconds(60)).clock(clock));
    recheck.schedule("order-1", Duration.ZERO);
    long[][] bounds = {{5_000, 10_000}, {10_000, 20_000}, {20_000, 40_000}, {30_000, 60_000}, {30_000, 60_000}};
    List<Long> delays = new ArrayList<>();
    for (int n = 1; n <= bounds.length; n++) {
      int attempt = n;
      await().atMost(Duration.ofSeconds(10)).until(() -> recheck.retried() == attempt);
      long delay = dueAt("backoff", "order-1") - clock.millis();
      delays.add(delay);
      assertThat(delay).as("the delay after attempt %d", n).isBetween(bounds[n - 1][0], bounds[n - 1][1]);
      clock.set(clock.millis() + delay - 1);
      assertThat(recheck.retried()).isEqualTo(n);
      clock.set(clock.millis() + 1); // due now
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> attempts.size() == bounds.length + 1);
    assertThat(attempts).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(delays).as("jittered: not all at the bound").anySatisfy(d -> assertThat(d % 1_000).isNotZero());
  }

  @Test
  void retryDelayStillMeansTheSameDelayAfterEveryAttempt() throws Exception {
    SettableClock clock = new SettableClock(1_900_000_000_000L);
    DelayedRecheck recheck = started(builder("fixed", (key, attempt) -> RecheckResult.retryLater("pending"))
        .maxAttempts(10).retryDelay(Duration.ofSeconds(7)).clock(clock));
    recheck.schedule("order-2", Duration.ZERO);
    for (int n = 1; n <= 4; n++) {
      int attempt = n;
      await().atMost(Duration.ofSeconds(10)).until(() -> recheck.retried() == attempt);
      assertThat(dueAt("fixed", "order-2") - clock.millis()).as("after attempt %d", n).isEqualTo(7_000);
      clock.set(clock.millis() + 7_000);
    }
  }

  @Test
  void badInputIsRejectedNamingTheArgument() {
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).build())
        .isInstanceOf(InvalidConfigException.class).hasMessageContaining("handler must not be null");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).maxAttempts(0))
        .hasMessageContaining("maxAttempts").hasMessageContaining("0");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).lease(Duration.ofMillis(10)))
        .hasMessageContaining("lease must be at least 1s");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).table("drop table;"))
        .hasMessageContaining("table");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).handler((k, a) -> RecheckResult.resolved())
        .lease(Duration.ofSeconds(10)).checkTimeout(Duration.ofSeconds(10)).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("checkTimeout must be at most 9/10 of the lease (9s), but was 10s");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).retryBackoff(Duration.ofSeconds(10), Duration.ofSeconds(1)))
        .hasMessage("max must be at least initial (10s), but was 1s");
    assertThatThrownBy(() -> DelayedRecheck.builder("x", db).retryBackoff(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessage("initial must be positive, but was 0ms");
    DelayedRecheck r = DelayedRecheck.builder("x", db).handler((k, a) -> RecheckResult.resolved()).build();
    assertThatThrownBy(() -> r.schedule("k".repeat(191), Duration.ZERO)).hasMessageContaining("key must be at most 190");
    assertThatThrownBy(() -> r.schedule("k", Duration.ofSeconds(-1))).hasMessageContaining("delay");
    assertThatThrownBy(() -> RecheckResult.alert(" ")).hasMessageContaining("reason");
  }
}
