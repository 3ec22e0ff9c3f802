package io.giftkit.demo.dashboard;

import io.giftkit.boot.cache.GiftkitCaches;
import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerSnapshot;
import io.giftkit.breaker.CallOutcome;
import io.giftkit.cache.CacheStats;
import io.giftkit.core.Site;
import io.giftkit.demo.gifts.PaymentRechecks;
import io.giftkit.demo.gifts.Reconciliation;
import io.giftkit.mq.outbox.OutboxRelay;
import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.PaymentProvider;
import io.giftkit.demo.gifts.Settlement;
import io.giftkit.demo.timeline.Timeline;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.PartitionLag;
import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/dashboard}: everything the dashboard page ({@code GET /}) shows, read live: breaker
 * states and rates, fallbacks by kind, hot rooms, cache hit ratios per tier, gifts per second,
 * consumer lag, dead letters, re-check alerts, orders per shard.
 */
@RestController
public class DashboardController {

  private final BreakerRegistry breakers;
  private final GiftkitCaches caches;
  private final GiftkitConsumers consumers;
  private final RoomDirectory rooms;
  private final GiftOrderService orders;
  private final OutboxRelay relay;
  private final PaymentProvider payments;
  private final PaymentRechecks rechecks;
  private final Reconciliation reconciliation;
  private final Timeline timeline;
  private final ShardDataSources shards;
  private final ShardRouter router;
  private final DataSource control;
  private final Site site;
  private long lastAt = System.nanoTime();
  private long lastCreated;

  public DashboardController(BreakerRegistry breakers, GiftkitCaches caches, GiftkitConsumers consumers,
      RoomDirectory rooms, GiftOrderService orders, OutboxRelay relay, PaymentProvider payments,
      PaymentRechecks rechecks, Reconciliation reconciliation, Timeline timeline, ShardDataSources shards, ShardRouter router, DataSource control, Site site) {
    this.breakers = breakers;
    this.caches = caches;
    this.consumers = consumers;
    this.rooms = rooms;
    this.orders = orders;
    this.relay = relay;
    this.payments = payments;
    this.rechecks = rechecks;
    this.reconciliation = reconciliation;
    this.timeline = timeline;
    this.shards = shards;
    this.router = router;
    this.control = control;
    this.site = site;
  }

  @GetMapping("/api/dashboard")
  public synchronized Map<String, Object> dashboard() throws SQLException {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("site", site.name());
    d.put("at", Instant.now().toString());

    List<Map<String, Object>> bs = new ArrayList<>();
    for (BreakerSnapshot s : breakers.snapshots()) {
      Map<String, Object> b = new LinkedHashMap<>();
      b.put("name", s.name());
      b.put("state", s.state().name());
      b.put("failureRate", Double.isNaN(s.failureRate()) ? null : Math.round(s.failureRate() * 10) / 10.0);
      b.put("slowCallRate", Double.isNaN(s.slowCallRate()) ? null : Math.round(s.slowCallRate() * 10) / 10.0);
      b.put("calls", s.callsInWindow());
      b.put("fresh", s.total(CallOutcome.SUCCESS));
      b.put("fallbackCached", s.fallbacksCached());
      b.put("fallbackDefault", s.fallbacksDefault());
      b.put("timeouts", s.total(CallOutcome.TIMEOUT));
      b.put("rejectedOpen", s.total(CallOutcome.OPEN));
      bs.add(b);
    }
    d.put("breakers", bs);

    Map<String, Object> cache = new LinkedHashMap<>();
    cache.put("tiered", rooms.tieredCache());
    caches.all().stream().filter(e -> e.name().equals("rooms")).findFirst().ifPresent(e -> {
      CacheStats s = e.cache().stats();
      cache.put("l1HitRatio", ratio(s.l1Hits(), s.l1Hits() + s.l1Misses()));
      cache.put("l2HitRatio", ratio(s.l2Hits(), s.l2Hits() + s.l2Misses()));
      cache.put("loads", s.loads());
      cache.put("coalesced", s.coalesced());
      cache.put("redisErrors", s.redisErrors());
      cache.put("redisDown", e.cache().isRedisDown());
    });
    cache.put("roomLoads", rooms.loads());
    cache.put("hotRooms", rooms.hotRooms(caches));
    d.put("cache", cache);

    long created = orders.created();
    long now = System.nanoTime();
    double seconds = Math.max(0.001, (now - lastAt) / 1e9);
    Map<String, Object> gifts = new LinkedHashMap<>();
    gifts.put("perSecond", Math.round((created - lastCreated) / seconds * 10) / 10.0);
    lastAt = now;
    lastCreated = created;
    gifts.put("ordersCreated", created);
    gifts.put("retriedSends", orders.duplicates());
    gifts.put("eventsPublished", relay.published());
    gifts.put("outboxPending", relay.pending());
    gifts.put("chargedThenFailed", payments.chargedThenFailed());
    Settlement.Totals t = Settlement.totals(control);
    gifts.put("ledgerRows", t.rows());
    gifts.put("ledgerAmount", t.amount());
    gifts.put("streamerIncome", t.income());
    gifts.put("reconciled", t.amount() == t.income() && t.amount() == t.ranking());
    d.put("gifts", gifts);

    List<Map<String, Object>> cs = new ArrayList<>();
    for (GiftkitConsumer<?, ?> c : consumers.all()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", c.name());
      m.put("state", c.state().name());
      m.put("handled", c.handled());
      m.put("duplicates", c.duplicates());
      m.put("deadLettered", c.deadLettered());
      m.put("filtered", c.filtered());
      m.put("lag", c.lag().stream().mapToLong(PartitionLag::lag).sum());
      m.put("oldestMs", c.lag().stream().mapToLong(PartitionLag::recordAgeMillis).max().orElse(0));
      cs.add(m);
    }
    d.put("consumers", cs);

    Map<String, Object> r = new LinkedHashMap<>();
    r.put("pending", rechecks.pending());
    r.put("resolved", rechecks.resolved());
    r.put("alerts", rechecks.alerts().size());
    r.put("reconciliationAlerts", reconciliation.alerts().size());
    d.put("rechecks", r);

    YearMonth month = YearMonth.now(router.zone());
    String table = router.table(month);
    List<Long> perShard = new ArrayList<>();
    for (int s = 0; s < shards.shards(); s++) {
      try (Connection c = shards.primaryView(s).getConnection(); // a down shard fails fast, not per refresh
          PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        perShard.add(rs.getLong(1));
      } catch (SQLException e) {
        perShard.add(-1L); // the shard is down: the page shows it
      }
    }
    d.put("shards", Map.of("table", table, "orders", perShard));
    d.put("timeline", timeline.points());
    return d;
  }

  private static Double ratio(long part, long whole) {
    return whole == 0 ? null : Double.valueOf(String.format(Locale.ROOT, "%.3f", (double) part / whole));
  }
}
