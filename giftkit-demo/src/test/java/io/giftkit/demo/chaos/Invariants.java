package io.giftkit.demo.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The invariants a chaos run checks against {@link Books}, each computed independently of the
 * application's own counters.
 */
final class Invariants {

  /**
   * One invariant's verdict.
   *
   * @param name e.g. {@code I2 ledger = PAID orders}
   * @param pass whether it holds
   * @param summary one line
   * @param details the differing ids and the like (capped)
   */
  record Verdict(String name, boolean pass, String summary, List<String> details) {}

  static final int MAX_IDS = 20;

  private Invariants() {}

  static List<Verdict> check(Books b) {
    List<Verdict> out = new ArrayList<>();
    Map<Long, Books.Order> byId = new HashMap<>();
    for (Books.Order o : b.orders) {
      byId.putIfAbsent(o.orderId(), o);
    }
    Map<Long, Integer> alertsPerOrder = new HashMap<>();
    b.alerts.ifPresent(list -> list.forEach(a -> alertsPerOrder.merge(a.orderId(), 1, Integer::sum)));

    // I1: no PAYMENT_UNKNOWN after the horizon unless it has an alert
    List<Long> unknown = b.orders.stream().filter(o -> "PAYMENT_UNKNOWN".equals(o.status())).map(Books.Order::orderId)
        .sorted().toList();
    if (b.alerts.isEmpty()) {
      out.add(new Verdict("I1 no PAYMENT_UNKNOWN without an alert", false,
          "table missing: reconciliation_alert; " + unknown.size() + " PAYMENT_UNKNOWN orders", ids("unknown", unknown)));
    } else {
      List<Long> unalerted = unknown.stream().filter(id -> !alertsPerOrder.containsKey(id)).toList();
      out.add(new Verdict("I1 no PAYMENT_UNKNOWN without an alert", unalerted.isEmpty(),
          unknown.size() + " PAYMENT_UNKNOWN, " + unalerted.size() + " of them without an alert",
          ids("unknown without an alert", unalerted)));
    }

    // I2: PAID orders = ledger rows (ids and amounts), and the three totals agree
    Map<Long, Long> paid = new TreeMap<>();
    for (Books.Order o : b.orders) {
      if ("PAID".equals(o.status())) {
        paid.merge(o.orderId(), o.amount(), Long::sum);
      }
    }
    long paidSum = paid.values().stream().mapToLong(Long::longValue).sum();
    List<Long> paidNotInLedger = paid.keySet().stream().filter(id -> !b.ledger.containsKey(id)).toList();
    List<Long> ledgerNotPaid = b.ledger.keySet().stream().filter(id -> !paid.containsKey(id)).sorted().toList();
    List<Long> amountDiffers = paid.entrySet().stream()
        .filter(e -> b.ledger.containsKey(e.getKey()) && !b.ledger.get(e.getKey()).equals(e.getValue()))
        .map(Map.Entry::getKey).toList();
    boolean totals = b.incomeSum == b.ledgerSum && b.rankingSum == b.ledgerSum;
    boolean i2 = paidNotInLedger.isEmpty() && ledgerNotPaid.isEmpty() && amountDiffers.isEmpty() && totals
        && paid.size() == b.ledger.size() && !b.missing.stream().anyMatch(m -> m.endsWith(".gift_ledger"));
    List<String> d2 = new ArrayList<>();
    d2.addAll(ids("PAID without a ledger row", paidNotInLedger));
    d2.addAll(ids("ledger row whose order is not PAID", ledgerNotPaid));
    d2.addAll(ids("amount differs", amountDiffers));
    out.add(new Verdict("I2 ledger = PAID orders; income = ranking = ledger", i2, String.format(java.util.Locale.ROOT,
        "PAID %d orders / %d coins; ledger %d rows / %d coins; income %d; ranking %d", paid.size(), paidSum,
        b.ledger.size(), b.ledgerSum, b.incomeSum, b.rankingSum), d2));

    // I3: every disagreement between provider, orders and ledger has exactly one alert
    Map<Long, String> disagreements = new TreeMap<>();
    b.charges.ifPresent(charges -> {
      charges.forEach((id, ch) -> {
        Books.Order o = byId.get(id);
        if ("CHARGED".equals(ch.state()) && (o == null || !"PAID".equals(o.status()))) {
          disagreements.put(id, "provider CHARGED, order " + (o == null ? "missing" : o.status()));
        } else if ("CHARGED".equals(ch.state()) && o.amount() != ch.amount()) {
          disagreements.put(id, "amount: charged " + ch.amount() + ", order " + o.amount());
        }
      });
      paid.keySet().forEach(id -> {
        Books.Charge ch = charges.get(id);
        if (ch == null || !"CHARGED".equals(ch.state())) {
          disagreements.putIfAbsent(id, "order PAID, provider " + (ch == null ? "has no charge" : ch.state()));
        }
      });
    });
    ledgerNotPaid.forEach(id -> disagreements.putIfAbsent(id, "ledger row, order "
        + (byId.containsKey(id) ? byId.get(id).status() : "missing")));
    paidNotInLedger.forEach(id -> disagreements.putIfAbsent(id, "PAID, no ledger row"));
    amountDiffers.forEach(id -> disagreements.putIfAbsent(id, "amount: ledger " + b.ledger.get(id) + ", order "
        + paid.get(id)));
    List<String> d3 = new ArrayList<>();
    boolean i3 = true;
    StringBuilder s3 = new StringBuilder();
    if (b.charges.isEmpty()) {
      i3 = false;
      s3.append("table missing: payment_charge; ");
    }
    if (b.alerts.isEmpty()) {
      i3 = false;
      s3.append("table missing: reconciliation_alert; ");
    }
    int badAlerts = 0;
    for (Map.Entry<Long, String> e : disagreements.entrySet()) {
      int n = alertsPerOrder.getOrDefault(e.getKey(), 0);
      if (n != 1) {
        badAlerts++;
        if (d3.size() < MAX_IDS) {
          d3.add("order " + e.getKey() + ": " + e.getValue() + " — " + n + " alert rows");
        }
      }
    }
    if (badAlerts > MAX_IDS) {
      d3.add("… and " + (badAlerts - MAX_IDS) + " more");
    }
    i3 &= badAlerts == 0;
    Set<Long> spurious = new TreeSet<>(alertsPerOrder.keySet());
    spurious.removeAll(disagreements.keySet());
    if (!spurious.isEmpty()) {
      d3.addAll(ids("alerts with no disagreement (reported, not failed)", new ArrayList<>(spurious)));
    }
    s3.append(disagreements.size()).append(" disagreements found independently, ").append(badAlerts)
        .append(" without exactly one alert; ").append(spurious.size()).append(" alerts with no disagreement");
    out.add(new Verdict("I3 each disagreement has exactly one alert", i3, s3.toString(), d3));

    // I4: order ids unique across shards and months
    Set<Long> seen = new HashSet<>();
    List<Long> dup = new ArrayList<>();
    for (Books.Order o : b.orders) {
      if (!seen.add(o.orderId())) {
        dup.add(o.orderId());
      }
    }
    StringBuilder s4 = new StringBuilder(b.orders.size() + " order rows, " + seen.size() + " distinct ids");
    b.unionCounts.forEach((server, c) -> s4.append("; SQL on ").append(server).append(": COUNT ").append(c[0])
        .append(" / COUNT DISTINCT ").append(c[1]));
    boolean unionOk = b.unionCounts.values().stream().allMatch(c -> c[0] == c[1]);
    out.add(new Verdict("I4 order ids unique across shards and months", dup.isEmpty() && unionOk, s4.toString(),
        ids("duplicated", dup)));
    return out;
  }

  static List<String> ids(String what, List<Long> ids) {
    if (ids.isEmpty()) {
      return List.of();
    }
    List<Long> head = ids.subList(0, Math.min(MAX_IDS, ids.size()));
    return List.of(what + " (" + ids.size() + "): " + head + (ids.size() > MAX_IDS ? " …" : ""));
  }
}
