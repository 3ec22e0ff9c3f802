package io.giftkit.demo.scenario;

import io.giftkit.boot.mq.GiftkitConsumers;
import io.giftkit.demo.faults.Fault;
import io.giftkit.demo.faults.FaultInjector;
import io.giftkit.demo.gifts.GiftEventPublisher;
import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.OrderStore;
import io.giftkit.demo.gifts.PaymentProvider;
import io.giftkit.demo.gifts.PaymentRechecks;
import io.giftkit.demo.gifts.Reconciliation;
import io.giftkit.demo.gifts.Settlement;
import io.giftkit.mq.GiftkitConsumer;
import io.giftkit.mq.outbox.OutboxRelay;
import io.giftkit.shard.ShardDataSources;
import io.giftkit.shard.ShardRouter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.HdrHistogram.ConcurrentHistogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The scenario: drives the running system over HTTP (a hot room taking half of the room traffic,
 * 20,000 users, gift sends and panel and room reads at once) for a fixed time, injects faults
 * mid-run (privileged gifts 200 ms and 60% errors for up to 20 s, payment timeouts, payments that
 * charge and then fail, duplicated and poison events), waits for settlement and re-checks to finish,
 * and reports. Run by {@link ScenarioRunner} ({@code scripts/demo-scenario}) and by the tests.
 */
@Component
public class Scenario {

  private static final Logger LOG = LoggerFactory.getLogger(Scenario.class);
  private static final int THREADS = 24;
  private static final int USERS = 20_000;
  private static final int POISON = 5;

  private final FaultInjector faults;
  private final PaymentProvider payments;
  private final GiftOrderService orders;
  private final OrderStore store;
  private final GiftEventPublisher publisher;
  private final GiftkitConsumers consumers;
  private final PaymentRechecks rechecks;
  private final Reconciliation reconciliation;
  private final OutboxRelay relay;
  private final ShardDataSources shards;
  private final ShardRouter router;
  private final DataSource control;

  public Scenario(FaultInjector faults, PaymentProvider payments, GiftOrderService orders, OrderStore store,
      GiftEventPublisher publisher, GiftkitConsumers consumers, PaymentRechecks rechecks, Reconciliation reconciliation,
      OutboxRelay relay, ShardDataSources shards, ShardRouter router, DataSource control) {
    this.faults = faults;
    this.payments = payments;
    this.orders = orders;
    this.store = store;
    this.publisher = publisher;
    this.consumers = consumers;
    this.rechecks = rechecks;
    this.reconciliation = reconciliation;
    this.relay = relay;
    this.shards = shards;
    this.router = router;
    this.control = control;
  }

  private record Paid(long uid, long orderId, long createdAt) {}

  /**
   * Runs the scenario against the server on {@code port}.
   *
   * @param port the demo's HTTP port
   * @param load how long to drive load (at least 10 s)
   * @return the report
   */
  public ScenarioReport run(int port, Duration load) throws Exception {
    ExecutorService httpThreads = Executors.newFixedThreadPool(4, daemon("scenario-http"));
    ExecutorService workers = Executors.newFixedThreadPool(THREADS, daemon("scenario-load"));
    try {
      return run(port, load, httpThreads, workers);
    } finally {
      faults.clear();
      workers.shutdownNow(); // never leave load threads behind, whatever failed
      httpThreads.shutdownNow();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private ScenarioReport run(int port, Duration load, ExecutorService httpThreads, ExecutorService workers)
      throws Exception {
    long seconds = Math.max(10, load.toSeconds());
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(httpThreads).build();
    String base = "http://127.0.0.1:" + port;
    Map<String, Map<String, LongAdder>> outcomes = new ConcurrentHashMap<>();
    Map<String, ConcurrentHistogram> latency = new ConcurrentHashMap<>();
    LongAdder panelTotal = new LongAdder();
    LongAdder panelAnswered = new LongAdder();
    Map<String, LongAdder> panelSource = new ConcurrentHashMap<>();
    List<Paid> paid = new CopyOnWriteArrayList<>();
    long createdBefore = orders.created();
    long retriedBefore = orders.duplicates();
    long chargedThenFailedBefore = payments.chargedThenFailed();
    GiftkitConsumer<?, ?> settlement = consumers.all().stream().filter(c -> c.name().equals("settlement"))
        .findFirst().orElseThrow();
    long duplicatesBefore = settlement.duplicates();
    long deadBefore = settlement.deadLettered();

    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    for (int t = 0; t < THREADS; t++) {
      workers.submit(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (System.nanoTime() < end) {
          long uid = 1 + r.nextInt(USERS);
          long room = r.nextBoolean() ? 1 : 2 + r.nextInt(500);
          int action = r.nextInt(100);
          try {
            if (action < 45) {
              panelTotal.increment();
              HttpResponse<String> resp = timed(http, "panel", outcomes, latency,
                  HttpRequest.newBuilder(URI.create(base + "/api/rooms/" + room + "/panel?uid=" + uid)).GET());
              if (resp != null && resp.statusCode() == 200) {
                panelAnswered.increment();
                String src = between(resp.body(), "\"privilegedSource\":\"", "\"");
                panelSource.computeIfAbsent(src, k -> new LongAdder()).increment();
              }
            } else if (action < 70) {
              timed(http, "room", outcomes, latency,
                  HttpRequest.newBuilder(URI.create(base + "/api/rooms/" + room)).GET());
            } else {
              String body = "{\"uid\":" + uid + ",\"roomId\":" + room + ",\"giftId\":" + (1 + r.nextInt(5))
                  + ",\"count\":" + (1 + r.nextInt(3)) + ",\"clientRequestId\":\"" + UUID.randomUUID() + "\"}";
              int sends = r.nextInt(20) == 0 ? 2 : 1; // 5% of sends are retried by the client
              for (int i = 0; i < sends; i++) {
                HttpResponse<String> resp = timed(http, "send", outcomes, latency, HttpRequest.newBuilder(
                    URI.create(base + "/api/gifts")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
                if (i == 0 && resp != null && resp.statusCode() == 200 && resp.body().contains("\"PAID\"")
                    && paid.size() < 1_000) {
                  paid.add(new Paid(uid, Long.parseLong(between(resp.body(), "\"orderId\":", ",")),
                      Long.parseLong(between(resp.body(), "\"createdAt\":", "}"))));
                }
              }
            }
          } catch (RuntimeException e) {
            count(outcomes, "client", "error");
          }
        }
        return null;
      });
    }

    // Faults, at fixed fractions of the run.
    long privilegedFor = Math.min(20, Math.max(3, seconds * 3 / 10));
    at(start, seconds * 20 / 100);
    LOG.info("scenario: privileged gifts 200 ms and 60% errors for {} s", privilegedFor);
    faults.set("privileged-gifts", new Fault(Duration.ofMillis(200), 0.6));
    at(start, seconds * 20 / 100 + privilegedFor);
    faults.set("privileged-gifts", Fault.NONE);
    at(start, seconds * 55 / 100);
    LOG.info("scenario: payment timeouts (400 ms against a 200 ms budget)");
    faults.set("payment", new Fault(Duration.ofMillis(400), 0));
    at(start, seconds * 62 / 100);
    LOG.info("scenario: payments that charge, then answer with an error (the re-checks settle them)");
    faults.set("payment", new Fault(Duration.ZERO, 1.0));
    at(start, seconds * 66 / 100);
    faults.set("payment", Fault.NONE);
    LOG.info("scenario: the provider declines 30% of charges (a clean no: the orders are FAILED)");
    faults.set("payment-decline", new Fault(Duration.ZERO, 0.3));
    at(start, seconds * 70 / 100);
    faults.set("payment-decline", Fault.NONE);
    at(start, seconds * 75 / 100);
    LOG.info("scenario: {} duplicated events and {} poison events", Math.min(50, paid.size()), POISON);
    for (Paid p : paid.subList(0, Math.min(50, paid.size()))) {
      store.find(p.uid(), p.orderId(), p.createdAt()).ifPresent(o -> publisher.publish(o.event()));
    }
    for (int i = 0; i < POISON; i++) {
      publisher.send("poison-" + i, ("{\"orderId\": \"not a number " + i + "\"").getBytes(StandardCharsets.UTF_8));
    }
    workers.shutdown();
    if (!workers.awaitTermination(seconds + 60, TimeUnit.SECONDS)) {
      workers.shutdownNow();
    }
    faults.clear();

    // Settle: every re-check done, the outbox empty and every PAID order in the ledger (or give up after 90 s).
    long settleBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < settleBy) {
      if (rechecks.pending() == 0 && relay.pending() == 0 && paidInShards()[0] == Settlement.totals(control).rows()
          && settlement.deadLettered() - deadBefore >= POISON) {
        break;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
    }

    // Disagreements on purpose: the provider reports charges for orders recorded FAILED. The sweep,
    // run as of a minute from now (past its grace, twice: a disagreement must be seen twice), must
    // raise exactly one alert for each, and none for anything else.
    List<long[]> failed = ordersWithStatus("FAILED", 20);
    for (long[] o : failed) {
      payments.forceCharge(o[0], o[1], o[2]);
    }
    java.time.Instant asOf = java.time.Instant.now().plusSeconds(61);
    List<Reconciliation.Alert> raised = new java.util.ArrayList<>(reconciliation.sweep(asOf));
    raised.addAll(reconciliation.sweep(asOf));
    java.util.Set<Long> injected = new java.util.HashSet<>();
    failed.forEach(o -> injected.add(o[0]));
    long alertsForInjected = raised.stream()
        .filter(a -> a.kind().equals("CHARGED_BUT_FAILED") && injected.contains(a.orderId())).count();
    long otherAlerts = reconciliation.alerts().stream()
        .filter(a -> !(a.kind().equals("CHARGED_BUT_FAILED") && injected.contains(a.orderId()))).count();
    long unresolved = ordersWithStatus("PAYMENT_UNKNOWN", Integer.MAX_VALUE).size();

    Map<String, Map<String, Long>> requests = new TreeMap<>();
    outcomes.forEach((k, v) -> {
      Map<String, Long> m = new TreeMap<>();
      v.forEach((o, n) -> m.put(o, n.sum()));
      requests.put(k, m);
    });
    Map<String, long[]> lat = new TreeMap<>();
    latency.forEach((k, h) -> lat.put(k, new long[] {h.getValueAtPercentile(50), h.getValueAtPercentile(99)}));
    Map<String, Long> sources = new TreeMap<>();
    panelSource.forEach((k, v) -> sources.put(k, v.sum()));
    long[] paidNow = paidInShards();
    Settlement.Totals t = Settlement.totals(control);
    ScenarioReport report = new ScenarioReport(seconds, requests, lat, panelAnswered.sum(), panelTotal.sum(), sources,
        orders.created() - createdBefore, orders.duplicates() - retriedBefore, paidNow[0], paidNow[1], t.rows(),
        t.amount(), t.income(), t.ranking(), settlement.duplicates() - duplicatesBefore,
        settlement.deadLettered() - deadBefore, POISON, alertsForInjected, failed.size(),
        payments.chargedThenFailed() - chargedThenFailedBefore, unresolved, otherAlerts);
    return report;
  }

  /** Up to {@code limit} orders {@code {orderId, uid, amount}} with the status, this month and last. */
  private List<long[]> ordersWithStatus(String status, int limit) throws SQLException {
    List<long[]> out = new java.util.ArrayList<>();
    YearMonth now = YearMonth.now(router.zone());
    for (int s = 0; s < shards.shards() && out.size() < limit; s++) {
      try (Connection c = shards.primary(s).getConnection(); Statement st = c.createStatement()) {
        for (YearMonth m : List.of(now.minusMonths(1), now)) {
          try (ResultSet rs = st.executeQuery("SELECT order_id, uid, amount FROM " + router.table(m)
              + " WHERE status = '" + status + "'")) {
            while (rs.next() && out.size() < limit) {
              out.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
            }
          } catch (SQLException missingTable) {
            // last month's table exists only if the system ran then
          }
        }
      }
    }
    return out;
  }

  /** PAID orders and their amount across every shard, this month and last (a run may cross a month). */
  private long[] paidInShards() throws SQLException {
    long count = 0;
    long amount = 0;
    YearMonth now = YearMonth.now(router.zone());
    for (int s = 0; s < shards.shards(); s++) {
      try (Connection c = shards.primary(s).getConnection(); Statement st = c.createStatement()) {
        for (YearMonth m : List.of(now.minusMonths(1), now)) {
          try (ResultSet rs = st.executeQuery("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM " + router.table(m)
              + " WHERE status = 'PAID'")) {
            rs.next();
            count += rs.getLong(1);
            amount += rs.getLong(2);
          } catch (SQLException missingTable) {
            // last month's table exists only if the system ran then
          }
        }
      }
    }
    return new long[] {count, amount};
  }

  private static void at(long start, long secondsIn) {
    long due = start + TimeUnit.SECONDS.toNanos(secondsIn);
    long left;
    while ((left = due - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left); // the fault timeline: wait until the next step is due
    }
  }

  private static HttpResponse<String> timed(HttpClient http, String endpoint,
      Map<String, Map<String, LongAdder>> outcomes, Map<String, ConcurrentHistogram> latency,
      HttpRequest.Builder request) {
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      latency.computeIfAbsent(endpoint, k -> new ConcurrentHistogram(3))
          .recordValue(Math.max(1, (System.nanoTime() - t0) / 1_000));
      count(outcomes, endpoint, r.statusCode() / 100 + "xx");
      return r;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      count(outcomes, endpoint, "error");
      return null;
    }
  }

  private static void count(Map<String, Map<String, LongAdder>> outcomes, String endpoint, String outcome) {
    outcomes.computeIfAbsent(endpoint, k -> new ConcurrentHashMap<>()).computeIfAbsent(outcome, k -> new LongAdder())
        .increment();
  }

  private static String between(String s, String from, String to) {
    int a = s.indexOf(from);
    if (a < 0) {
      return "?";
    }
    a += from.length();
    int b = s.indexOf(to, a);
    return b < 0 ? s.substring(a) : s.substring(a, b);
  }

}
