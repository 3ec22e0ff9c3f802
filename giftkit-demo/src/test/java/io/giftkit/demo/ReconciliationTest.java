package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.demo.faults.FaultInjector;
import io.giftkit.demo.gifts.PaymentProvider;
import io.giftkit.demo.gifts.Reconciliation;
import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.id.IdGenerator;
import io.giftkit.testing.MariaDbExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reconciliation sweep on real MariaDB (two shards, a control database, the provider's
 * database), with every kind of disagreement written by SQL: exactly one alert per disagreement,
 * none for the orders that agree, none for a shard that cannot be read, and an alert resolved once
 * its disagreement is gone.
 */
class ReconciliationTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  private final List<AutoCloseable> closing = new ArrayList<>();
  private ShardRouter router;
  private ShardDataSources shards;
  private HikariDataSource control;
  private PaymentProvider provider;
  private Reconciliation sweep;
  private IdGenerator ids;
  private String shard0;
  private final Instant asOf = Instant.now().plusSeconds(120);

  @BeforeEach
  void setUp() throws Exception {
    router = ShardRouter.builder("gift_order").shards(2).zone("Asia/Shanghai").build();
    shard0 = MARIADB.createDatabase("rec_shard0");
    shards = ShardDataSources.builder()
        .primary(0, MARIADB.jdbcUrl(shard0), MARIADB.user(), MARIADB.password())
        .primary(1, MARIADB.jdbcUrl(MARIADB.createDatabase("rec_shard1")), MARIADB.user(), MARIADB.password())
        .connectionTimeout(Duration.ofMillis(500)).build();
    closing.add(shards);
    control = new HikariDataSource();
    control.setJdbcUrl(MARIADB.jdbcUrl(MARIADB.createDatabase("rec_control")));
    control.setUsername(MARIADB.user());
    control.setPassword(MARIADB.password());
    closing.add(control);
    provider = new PaymentProvider(new FaultInjector(), MARIADB.jdbcUrl(MARIADB.createDatabase("rec_payments")),
        MARIADB.user(), MARIADB.password(), 2);
    closing.add(provider::destroy);
    ids = IdGenerator.builder(control).build();
    ids.createTable();
    ids.start();
    closing.add(ids);
    for (int s = 0; s < 2; s++) {
      try (Connection c = shards.primaryView(s).getConnection(); Statement st = c.createStatement()) {
        for (java.time.YearMonth m : List.of(router.monthOf(asOf.minusSeconds(900)), router.monthOf(asOf))) {
          st.execute("CREATE TABLE IF NOT EXISTS " + router.table(m) + " (order_id BIGINT PRIMARY KEY, uid BIGINT,"
              + " amount BIGINT, status VARCHAR(16), created_at BIGINT)");
        }
      }
    }
    try (Connection c = control.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE gift_ledger (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL, room_id BIGINT NOT NULL,"
          + " streamer_uid BIGINT NOT NULL, amount BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS reconciliation_alert (alert_key VARCHAR(100) PRIMARY KEY,"
          + " order_id BIGINT NOT NULL, kind VARCHAR(32) NOT NULL, detail VARCHAR(500) NOT NULL,"
          + " raised_at BIGINT NOT NULL, resolved_at BIGINT NULL)");
    }
    sweep = reconciliation(shards, Duration.ofMinutes(10));
  }

  /** The demo's settings: every 5 s, 15 min window, 30 s grace, 60 s to settle. */
  private Reconciliation reconciliation(ShardDataSources over, Duration unresolvedAfter) {
    return new Reconciliation(over, router, control, provider, new SimpleMeterRegistry(),
        new io.giftkit.demo.cluster.JobLeadership(null, "jobs", "test"), Duration.ofSeconds(5),
        Duration.ofMinutes(15), Duration.ofSeconds(30), Duration.ofSeconds(60), unresolvedAfter);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** An order of uid {@code uid}, as the request path writes it; returns its id. */
  private long order(long uid, long amount, String status) throws SQLException {
    long id = ids.nextId();
    long at = IdGenerator.timestampOf(id).toEpochMilli();
    try (Connection c = shards.primaryView(router.shardOf(uid)).getConnection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO " + router.route(uid, at).table() + " VALUES (?, ?, ?, ?, ?)")) {
      ps.setLong(1, id);
      ps.setLong(2, uid);
      ps.setLong(3, amount);
      ps.setString(4, status);
      ps.setLong(5, at);
      ps.executeUpdate();
    }
    return id;
  }

  private void ledger(long orderId, long uid, long amount) throws SQLException {
    try (Connection c = control.getConnection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO gift_ledger VALUES (?, ?, 1, 17, ?, 0)")) {
      ps.setLong(1, orderId);
      ps.setLong(2, uid);
      ps.setLong(3, amount);
      ps.executeUpdate();
    }
  }

  private Map<String, Long> raisedTwice() throws SQLException {
    assertThat(sweep.sweep(asOf)).as("a disagreement seen once is not raised yet").isEmpty();
    Map<String, Long> raised = new TreeMap<>();
    sweep.sweep(asOf).forEach(a -> raised.put(a.kind(), a.orderId()));
    assertThat(sweep.sweep(asOf)).as("raised once, however many sweeps see it").isEmpty();
    return raised;
  }

  @Test
  void everyKindOfDisagreementRaisesExactlyOneAlertAndAgreeingOrdersNone() throws Exception {
    long ok = order(10, 99, "PAID");
    provider.forceCharge(ok, 10, 99);
    ledger(ok, 10, 99);
    long failedOk = order(11, 10, "FAILED");
    provider.voidUnlessCharged(failedOk, 11);

    long unresolved = order(12, 10, "PAYMENT_UNKNOWN");
    long chargedButFailed = order(13, 10, "FAILED");
    provider.forceCharge(chargedButFailed, 13, 10);
    long paidNotCharged = order(14, 10, "PAID");
    ledger(paidNotCharged, 14, 10);
    long paidNotSettled = order(15, 10, "PAID");
    provider.forceCharge(paidNotSettled, 15, 10);
    long settledNotPaid = order(16, 10, "FAILED");
    ledger(settledNotPaid, 16, 10);
    long amountMismatch = order(17, 10, "PAID");
    provider.forceCharge(amountMismatch, 17, 10);
    ledger(amountMismatch, 17, 11);
    long settledNoOrder = ids.nextId();
    ledger(settledNoOrder, 18, 10);
    long chargedNoOrder = ids.nextId();
    provider.forceCharge(chargedNoOrder, 19, 10);

    assertThat(raisedTwice()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "UNRESOLVED", unresolved,
        "CHARGED_BUT_FAILED", chargedButFailed,
        "PAID_NOT_CHARGED", paidNotCharged,
        "PAID_NOT_SETTLED", paidNotSettled,
        "SETTLED_NOT_PAID", settledNotPaid,
        "AMOUNT_MISMATCH", amountMismatch,
        "SETTLED_NO_ORDER", settledNoOrder,
        "CHARGED_NO_ORDER", chargedNoOrder));
    assertThat(sweep.alerts()).hasSize(8).extracting(Reconciliation.Alert::orderId).doesNotContain(ok, failedOk);

    // the disagreement goes away (the order is settled after all): the alert is resolved
    try (Connection c = shards.primaryView(router.shardOf(12)).getConnection(); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE " + router.route(12, IdGenerator.timestampOf(unresolved).toEpochMilli()).table()
          + " SET status = 'FAILED' WHERE order_id = " + unresolved);
    }
    provider.voidUnlessCharged(unresolved, 12);
    sweep.sweep(asOf);
    assertThat(sweep.alerts()).hasSize(7).extracting(Reconciliation.Alert::orderId).doesNotContain(unresolved);
  }

  /**
   * What settles by itself is not a disagreement: an order whose re-check is still pending (the
   * provider is down) until {@code unresolved-after}, and a PAID order whose event still waits in the
   * outbox (the broker is down). Last month's table does not exist here (fresh databases): the sweep
   * still reads the shards.
   */
  @Test
  void aPendingRecheckAndAnEventStillInTheOutboxAreNotDisagreements() throws Exception {
    long waiting = order(30, 10, "PAYMENT_UNKNOWN");
    io.giftkit.mq.recheck.DelayedRecheck recheck = io.giftkit.mq.recheck.DelayedRecheck.builder(
        io.giftkit.demo.gifts.PaymentRechecks.NAME, shards.primaryView(router.shardOf(30)))
        .handler((k, a) -> io.giftkit.mq.recheck.RecheckResult.resolved()).build(); // not started: stays pending
    recheck.createTable();
    recheck.schedule("order:30:" + waiting + ":" + IdGenerator.timestampOf(waiting).toEpochMilli(), Duration.ofHours(1));
    long queued = order(31, 10, "PAID");
    provider.forceCharge(queued, 31, 10);
    io.giftkit.mq.outbox.Outbox outbox = io.giftkit.mq.outbox.Outbox.builder().build();
    outbox.createTable(shards.primaryView(router.shardOf(31)));
    try (Connection c = shards.primaryView(router.shardOf(31)).getConnection()) {
      outbox.add(c, "gift-events", Long.toString(queued), new byte[] {1});
    }

    assertThat(sweep.sweep(asOf)).isEmpty();
    assertThat(sweep.sweep(asOf)).as("both settle by themselves: no alert").isEmpty();
    Reconciliation impatient = reconciliation(shards, Duration.ofMinutes(1)); // the order is 2 min old as of then
    impatient.sweep(asOf);
    assertThat(impatient.sweep(asOf)).extracting(Reconciliation.Alert::kind, Reconciliation.Alert::orderId)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("UNRESOLVED", waiting));
  }

  @Test
  void aShardThatCannotBeReadIsSkippedNotTakenAsEmpty() throws Exception {
    ShardDataSources oneDown = ShardDataSources.builder()
        .primary(0, MARIADB.jdbcUrl(shard0), MARIADB.user(), MARIADB.password())
        .primary(1, "jdbc:mariadb://127.0.0.1:1/none?connectTimeout=200", "x", "")
        .connectionTimeout(Duration.ofMillis(300)).build();
    closing.add(oneDown);
    Reconciliation blind = reconciliation(oneDown, Duration.ofMinutes(10));
    long settled = ids.nextId(); // a ledger row and a charge of uid 21 (shard 1): its order cannot be read
    ledger(settled, 21, 10);
    provider.forceCharge(settled, 21, 10);
    long orphan = ids.nextId(); // the same on uid 20 (shard 0, readable): that one is a disagreement
    ledger(orphan, 20, 10);
    blind.sweep(asOf);
    assertThat(blind.sweep(asOf)).extracting(Reconciliation.Alert::orderId).containsExactly(orphan);
  }
}
