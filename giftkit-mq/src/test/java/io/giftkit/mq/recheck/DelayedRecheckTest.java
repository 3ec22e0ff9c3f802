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
      throw new IllegalStateException("payment service unreachable");
    }).maxAttempts(2).retryDelay(Duration.ofMillis(50)).alertListener(heard::add)
        .alertListener(a -> {
          throw new IllegalStateException("a broken listener must not stop the others");
        }));
    recheck.schedule("paid-no-order", Duration.ZERO);
    recheck.schedule("unreachable", Duration.ZERO);
    await().atMost(Duration.ofSeconds(10)).until(() -> heard.size() == 2);
    assertThat(heard).extracting(RecheckAlert::key, RecheckAlert::attempts, RecheckAlert::reason)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("paid-no-order", 1, "paid at the payment service, no order recorded"),
            org.assertj.core.groups.Tuple.tuple("unreachable", 2,
                "unsettled after 2 attempts: failed: java.lang.IllegalStateException: payment service unreachable"));
    assertThat(recheck.failures()).isEqualTo(2);
    assertThat(recheck.alerted()).isEqualTo(2);
  }

  @Test
  void aCheckWhoseSchedulerHangsIsTakenOverWhenTheLeaseEnds() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch stuck = new CountDownLatch(1);
    DelayedRecheck hanging = started(builder("lease", (key, attempt) -> {
      stuck.countDown();
      release.await(60, TimeUnit.SECONDS);
      return RecheckResult.resolved();
    }).lease(Duration.ofSeconds(1)));
    hanging.schedule("order-9", Duration.ZERO);
    assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();

    List<Integer> attempts = new CopyOnWriteArrayList<>();
    DelayedRecheck other = started(builder("lease", (key, attempt) -> {
      attempts.add(attempt);
      return RecheckResult.resolved();
    }).lease(Duration.ofSeconds(1)));
    await().atMost(Duration.ofSeconds(10)).until(() -> other.resolved() == 1);
    assertThat(attempts).containsExactly(2);
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> hanging.lostLeases() == 1);
    assertThat(hanging.resolved()).as("the late outcome is discarded").isZero();
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
    DelayedRecheck r = DelayedRecheck.builder("x", db).handler((k, a) -> RecheckResult.resolved()).build();
    assertThatThrownBy(() -> r.schedule("k".repeat(191), Duration.ZERO)).hasMessageContaining("key must be at most 190");
    assertThatThrownBy(() -> r.schedule("k", Duration.ofSeconds(-1))).hasMessageContaining("delay");
    assertThatThrownBy(() -> RecheckResult.alert(" ")).hasMessageContaining("reason");
  }
}
