package io.giftkit.demo.gifts;

import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.giftkit.demo.cluster.JobLeadership;
import io.giftkit.demo.cluster.Periodic;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The reconciliation sweep: every {@code giftkit.demo.reconcile.interval} it compares, for the
 * orders created between {@code window} and {@code grace} ago, what the payment provider charged,
 * what the orders say and what the ledger settled, and raises one alert per disagreement
 * ({@code reconciliation_alert} in the control database, primary key {@code kind:orderId}, so two
 * instances sweeping at once still raise it once). Kinds: {@code UNRESOLVED} (still
 * PAYMENT_UNKNOWN after the grace with no pending re-check, or after {@code unresolved-after}
 * whatever the re-check; such orders are also looked for by status beyond the window),
 * {@code CHARGED_BUT_FAILED}, {@code PAID_NOT_CHARGED}, {@code PAID_NOT_SETTLED} (after
 * {@code settle-grace}, once the event has left the shard's outbox: a publishing backlog during a
 * broker outage is not a disagreement), {@code SETTLED_NOT_PAID}, {@code AMOUNT_MISMATCH},
 * {@code SETTLED_NO_ORDER}, {@code CHARGED_NO_ORDER}. When the provider cannot be read, the kinds
 * that need it are skipped for that sweep; a month table that does not exist has no orders.
 *
 * <p>Only the instance that leads the demo's singleton jobs ({@link JobLeadership}: elected through
 * etcd, or this instance alone without it) sweeps on the schedule; {@link #sweep()} itself runs
 * wherever it is called.
 *
 * <p>A disagreement must be seen by two consecutive sweeps before it is raised (the three sources
 * are read one after another, and an order may move between two reads); the ledger and the charges
 * are read before the orders for the same reason. A shard that cannot be read is skipped, never
 * taken as "no orders". An alert whose disagreement is gone on a later sweep is marked resolved
 * ({@code resolved_at}); {@code GET /api/reconciliation/alerts} lists the open ones.
 *
 * <p>Size: past the house limit of ~400 lines because the sweep's queries over orders, ledger and the
 * payment provider, and the three small records they use, are kept in one place to be read
 * together; about 360 of the lines are code.
 */
@Component
public class Reconciliation implements SmartLifecycle {

  /** The alerts table (control database). */
  static final String DDL = "CREATE TABLE IF NOT EXISTS reconciliation_alert (alert_key VARCHAR(100) PRIMARY KEY,"
      + " order_id BIGINT NOT NULL, kind VARCHAR(32) NOT NULL, detail VARCHAR(500) NOT NULL, raised_at BIGINT NOT NULL,"
      + " resolved_at BIGINT NULL)";

  /**
   * An open alert.
   *
   * @param key {@code kind:orderId}
   * @param orderId the order
   * @param kind what disagrees
   * @param detail the figures
   * @param raisedAt when it was raised
   */
  public record Alert(String key, long orderId, String kind, String detail, Instant raisedAt) {}

  private record OrderRow(long orderId, long uid, long amount, String status, long createdAt) {}

  private record Candidate(String key, long orderId, String kind, String detail) {}

  private static final Logger LOG = LoggerFactory.getLogger(Reconciliation.class);

  private final ShardDataSources shards;
  private final ShardRouter router;
  private final DataSource control;
  private final PaymentProvider provider;
  private final JobLeadership leadership;
  private final Duration interval;
  private final Duration window;
  private final Duration grace;
  private final Duration settleGrace;
  private final Duration unresolvedAfter;
  private final AtomicLong open = new AtomicLong();
  private final AtomicLong raised = new AtomicLong();
  private final AtomicLong scheduledSweeps = new AtomicLong();
  private final Map<String, Long> seenBefore = new HashMap<>(); // disagreement key → order id, seen once
  private volatile Periodic schedule;

  public Reconciliation(ShardDataSources shards, ShardRouter router, DataSource control, PaymentProvider provider,
      MeterRegistry meters, JobLeadership leadership,
      @Value("${giftkit.demo.reconcile.interval:5s}") Duration interval,
      @Value("${giftkit.demo.reconcile.window:15m}") Duration window,
      @Value("${giftkit.demo.reconcile.grace:30s}") Duration grace,
      @Value("${giftkit.demo.reconcile.settle-grace:60s}") Duration settleGrace,
      @Value("${giftkit.demo.reconcile.unresolved-after:10m}") Duration unresolvedAfter) {
    this.shards = shards;
    this.router = router;
    this.control = control;
    this.provider = provider;
    this.leadership = leadership;
    this.interval = interval;
    this.window = window;
    this.grace = grace;
    this.settleGrace = settleGrace;
    this.unresolvedAfter = unresolvedAfter;
    Gauge.builder("giftkit.demo.reconciliation.alerts", open, AtomicLong::get)
        .description("open reconciliation alerts (disagreements between provider, orders and ledger)")
        .register(meters);
  }

  /**
   * Runs one sweep now (the scheduler calls it every interval).
   *
   * @return the alerts raised by this sweep
   */
  public List<Alert> sweep() throws SQLException {
    return sweep(Instant.now());
  }

  /**
   * Runs one sweep as if it were {@code asOf} (the scenario and the tests judge a finished run at
   * once, instead of waiting out the grace period).
   *
   * @param asOf the sweep's "now"
   * @return the alerts raised by this sweep
   */
  public synchronized List<Alert> sweep(Instant asOf) throws SQLException {
    long now = asOf.toEpochMilli();
    long from = now - window.toMillis();
    long to = now - grace.toMillis();
    // the ledger and the charges first, then the orders: an order moves forward between the reads
    // (PAYMENT_UNKNOWN → PAID → settled), never backwards
    Map<Long, long[]> ledger = new HashMap<>(); // order id → {uid, amount}
    try (Connection c = control.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT order_id, uid, amount FROM gift_ledger WHERE order_id BETWEEN ? AND ?")) {
      ps.setLong(1, OrderIds.lowestAt(from));
      ps.setLong(2, OrderIds.lowestAt(to + 1) - 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ledger.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
        }
      }
    }
    Map<Long, Object[]> charges = new HashMap<>(); // order id → {uid, amount, state}
    boolean chargesRead = true;
    try (Connection c = provider.database().getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT order_id, uid, amount, state FROM payment_charge WHERE order_id BETWEEN ? AND ?")) {
      ps.setLong(1, OrderIds.lowestAt(from));
      ps.setLong(2, OrderIds.lowestAt(to + 1) - 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          charges.put(rs.getLong(1), new Object[] {rs.getLong(2), rs.getLong(3), rs.getString(4)});
        }
      }
    } catch (SQLException providerDown) { // judge what does not need the provider; skip what does
      chargesRead = false;
      LOG.debug("reconciliation: the provider's charges are unreadable this sweep: {}", providerDown.getMessage());
    }
    Map<Long, OrderRow> orders = new HashMap<>();
    Set<Long> recheckPending = new HashSet<>(); // PAYMENT_UNKNOWN orders whose re-check is still at work
    Set<Long> inOutbox = new HashSet<>(); // PAID orders whose event has not left the outbox yet
    boolean[] read = new boolean[shards.shards()];
    Set<YearMonth> months = new LinkedHashSet<>(List.of(router.monthOf(Instant.ofEpochMilli(from)),
        router.monthOf(Instant.ofEpochMilli(to))));
    YearMonth thisMonth = router.monthOf(asOf);
    for (int s = 0; s < shards.shards(); s++) {
      try (Connection c = shards.primaryView(s).getConnection()) {
        List<OrderRow> rows = new ArrayList<>();
        for (YearMonth m : months) {
          rows.addAll(select(c, "SELECT order_id, uid, amount, status, created_at FROM " + router.table(m)
              + " WHERE created_at BETWEEN ? AND ?", from, to));
        }
        // orders stuck longer than the window: found by status, so none escapes an alert by age
        for (YearMonth m : List.of(thisMonth.minusMonths(1), thisMonth)) {
          rows.addAll(select(c, "SELECT order_id, uid, amount, status, created_at FROM " + router.table(m)
              + " WHERE status = 'PAYMENT_UNKNOWN' AND created_at < ? AND created_at >= ? LIMIT 1000", from, 0));
        }
        for (OrderRow o : rows) {
          orders.put(o.orderId(), o);
          if (o.status().equals("PAYMENT_UNKNOWN") && pending(c, o)) {
            recheckPending.add(o.orderId());
          } else if (o.status().equals("PAID") && !ledger.containsKey(o.orderId()) && inOutbox(c, o.orderId())) {
            inOutbox.add(o.orderId());
          }
        }
        read[s] = true;
      } catch (SQLException | RuntimeException e) {
        LOG.debug("reconciliation: shard {} skipped this sweep: {}", s, e.getMessage());
      }
    }

    Map<String, Candidate> found = new HashMap<>();
    for (OrderRow o : orders.values()) {
      long[] settled = ledger.get(o.orderId());
      Object[] charge = charges.get(o.orderId());
      boolean charged = charge != null && "CHARGED".equals(charge[2]);
      switch (o.status()) {
        case "PAYMENT_UNKNOWN" -> {
          // its re-check is still at work (e.g. the provider is down): not a disagreement yet, up to a point
          if (!recheckPending.contains(o.orderId()) || o.createdAt() < now - unresolvedAfter.toMillis()) {
            add(found, "UNRESOLVED", o.orderId(), "order still PAYMENT_UNKNOWN " + (now - o.createdAt()) / 1000
                + " s after it was created (re-check " + (recheckPending.contains(o.orderId()) ? "still pending"
                : "gone or out of attempts") + ")");
          }
        }
        case "FAILED" -> {
          if (charged) {
            add(found, "CHARGED_BUT_FAILED", o.orderId(), "charged " + charge[1] + " coins at the provider, order FAILED");
          }
        }
        case "PAID" -> {
          if (!charged && chargesRead) {
            add(found, "PAID_NOT_CHARGED", o.orderId(), "order PAID, provider: "
                + (charge == null ? "nothing recorded" : charge[2]));
          }
          // an event still in the outbox is a publishing backlog (a broker outage), not a disagreement
          if (settled == null && !inOutbox.contains(o.orderId()) && o.createdAt() < now - settleGrace.toMillis()) {
            add(found, "PAID_NOT_SETTLED", o.orderId(), "order PAID (" + o.amount() + " coins), no ledger row");
          }
        }
        default -> add(found, "UNKNOWN_STATUS", o.orderId(), "status " + o.status());
      }
      if (settled != null && !"PAID".equals(o.status())) {
        add(found, "SETTLED_NOT_PAID", o.orderId(), "ledger has " + settled[1] + " coins, order " + o.status());
      }
      if (settled != null && settled[1] != o.amount()) {
        add(found, "AMOUNT_MISMATCH", o.orderId(), "ledger " + settled[1] + " coins, order " + o.amount());
      }
      if (charged && (long) charge[1] != o.amount()) {
        add(found, "AMOUNT_MISMATCH", o.orderId(), "charged " + charge[1] + " coins, order " + o.amount());
      }
    }
    long inner = 5_000; // an id stamped just outside the order's created_at window is not "missing"
    ledger.forEach((id, l) -> {
      long at = OrderIds.timestampOf(id);
      if (!orders.containsKey(id) && read[router.shardOf(l[0])] && at > from + inner && at < to - inner) {
        add(found, "SETTLED_NO_ORDER", id, "ledger has " + l[1] + " coins, no order row");
      }
    });
    charges.forEach((id, ch) -> {
      long at = OrderIds.timestampOf(id);
      if ("CHARGED".equals(ch[2]) && !orders.containsKey(id) && read[router.shardOf((long) ch[0])]
          && at > from + inner && at < to - inner) {
        add(found, "CHARGED_NO_ORDER", id, "charged " + ch[1] + " coins, no order row");
      }
    });

    List<Alert> newlyRaised = new ArrayList<>();
    // confirmed: found now and by an earlier sweep, with no sweep in between that read the order and
    // found it agreeing (a sweep with another window, e.g. one run as of another time, changes nothing)
    Set<String> confirmed = new HashSet<>(found.keySet());
    confirmed.retainAll(seenBefore.keySet());
    seenBefore.entrySet().removeIf(e -> (orders.containsKey(e.getValue()) && !found.containsKey(e.getKey()))
        || e.getValue() < OrderIds.lowestAt(from - window.toMillis()));
    found.forEach((key, d) -> seenBefore.putIfAbsent(key, d.orderId()));
    try (Connection c = control.getConnection()) {
      c.setAutoCommit(true);
      for (String key : confirmed) {
        Candidate d = found.get(key);
        if (raise(c, d, now)) {
          newlyRaised.add(new Alert(d.key(), d.orderId(), d.kind(), d.detail(), Instant.ofEpochMilli(now)));
          LOG.warn("RECONCILIATION ALERT {}: order {}: {}", d.kind(), d.orderId(), d.detail());
        }
      }
      // alerts of orders this sweep could judge whose disagreement is gone
      try (PreparedStatement q = c.prepareStatement("SELECT alert_key, order_id FROM reconciliation_alert"
          + " WHERE resolved_at IS NULL AND order_id BETWEEN ? AND ?");
          PreparedStatement done = c.prepareStatement(
              "UPDATE reconciliation_alert SET resolved_at = ? WHERE alert_key = ? AND resolved_at IS NULL")) {
        q.setLong(1, OrderIds.lowestAt(from));
        q.setLong(2, OrderIds.lowestAt(to + 1) - 1);
        List<String> gone = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            if (orders.containsKey(rs.getLong(2)) && !found.containsKey(rs.getString(1))) {
              gone.add(rs.getString(1));
            }
          }
        }
        for (String key : gone) {
          done.setLong(1, now);
          done.setString(2, key);
          done.executeUpdate();
          LOG.info("reconciliation: alert {} resolved (the disagreement is gone)", key);
        }
      }
    }
    raised.addAndGet(newlyRaised.size());
    open.set(openAlerts());
    return newlyRaised;
  }

  /** Orders by a query with two long parameters; a month table that does not exist has no rows. */
  private static List<OrderRow> select(Connection c, String sql, long a, long b) throws SQLException {
    List<OrderRow> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, a);
      ps.setLong(2, b);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new OrderRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getLong(5)));
        }
      }
    } catch (SQLException e) {
      if (!missingTable(e)) {
        throw e;
      }
    }
    return rows;
  }

  private static boolean missingTable(SQLException e) {
    return "42S02".equals(e.getSQLState()) || e.getErrorCode() == 1146 || e.getErrorCode() == 42102;
  }

  /** Whether the order's payment re-check (in its shard) is still pending. */
  private static boolean pending(Connection c, OrderRow o) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT status FROM giftkit_recheck WHERE scheduler = ?"
        + " AND check_key = ?")) {
      ps.setString(1, PaymentRechecks.NAME);
      ps.setString(2, OrderRecheck.key(o.uid(), o.orderId(), o.createdAt()));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && "P".equals(rs.getString(1));
      }
    } catch (SQLException e) {
      if (missingTable(e)) {
        return false;
      }
      throw e;
    }
  }

  /** Whether the order's event still waits in its shard's outbox. */
  private static boolean inOutbox(Connection c, long orderId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM giftkit_outbox WHERE msg_key = ?")) {
      ps.setString(1, Long.toString(orderId));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      if (missingTable(e)) {
        return false;
      }
      throw e;
    }
  }

  private static void add(Map<String, Candidate> found, String kind, long orderId, String detail) {
    String key = kind + ":" + orderId;
    found.putIfAbsent(key, new Candidate(key, orderId, kind, detail));
  }

  /** Inserts the alert, or reopens it; false if it is open already. */
  private static boolean raise(Connection c, Candidate d, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO reconciliation_alert"
        + " (alert_key, order_id, kind, detail, raised_at) VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, d.key());
      ps.setLong(2, d.orderId());
      ps.setString(3, d.kind());
      ps.setString(4, d.detail().length() > 500 ? d.detail().substring(0, 500) : d.detail());
      ps.setLong(5, now);
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
        throw e;
      }
    }
    // reopened only if resolved before this sweep's time: a sweep working from reads older than
    // another instance's resolution must not reopen what that one just saw settled
    try (PreparedStatement ps = c.prepareStatement("UPDATE reconciliation_alert SET resolved_at = NULL, raised_at = ?"
        + " WHERE alert_key = ? AND resolved_at IS NOT NULL AND resolved_at < ?")) {
      ps.setLong(1, now);
      ps.setString(2, d.key());
      ps.setLong(3, now);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * @return the open alerts, oldest first (at most 1,000)
   */
  public List<Alert> alerts() throws SQLException {
    List<Alert> out = new ArrayList<>();
    try (Connection c = control.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT alert_key, order_id, kind, detail, raised_at FROM reconciliation_alert WHERE resolved_at IS NULL"
            + " ORDER BY raised_at, alert_key LIMIT 1000");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Alert(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
            Instant.ofEpochMilli(rs.getLong(5))));
      }
    }
    return out;
  }

  /** @return how many alerts are open (all of them, not the first 1,000) */
  public long openAlerts() throws SQLException {
    try (Connection c = control.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM reconciliation_alert WHERE resolved_at IS NULL"); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** @return sweeps the schedule started on this instance (only while it leads the singleton jobs) */
  public long scheduledSweeps() {
    return scheduledSweeps.get();
  }

  /** @return alerts this instance raised */
  public long raised() {
    return raised.get();
  }

  @Override
  public void start() {
    schedule = Periodic.every("giftkit-demo-reconciliation", interval, interval, () -> {
      if (!leadership.isLeader()) {
        synchronized (this) {
          seenBefore.clear(); // a later leadership starts afresh: its first sighting is not a second one
        }
        return; // the instance that leads the demo's singleton jobs sweeps
      }
      scheduledSweeps.incrementAndGet();
      try {
        sweep();
      } catch (Exception e) {
        LOG.warn("reconciliation sweep failed; next in {} ({})", interval, e.toString());
      }
    });
  }

  @Override
  public void stop() {
    Periodic p = schedule;
    schedule = null;
    if (p != null) {
      p.close();
    }
  }

  @Override
  public boolean isRunning() {
    return schedule != null;
  }
}
