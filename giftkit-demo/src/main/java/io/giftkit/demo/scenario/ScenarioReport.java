package io.giftkit.demo.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a scenario run measured, and whether it passed: the ledger must reconcile exactly and the
 * panel must answer (fresh, cached or default) at least 99.99% of the time.
 *
 * @param seconds how long the load ran
 * @param requests requests by endpoint and outcome
 * @param latencies p50/p99 (ms) by endpoint
 * @param panelAnswered panels answered (any source)
 * @param panelTotal panels asked for
 * @param panelBySource answered panels by privileged-part source (FRESH, CACHED, DEFAULT)
 * @param ordersCreated orders created
 * @param retriedSends sends answered with the earlier order
 * @param paidOrders orders PAID in the shards
 * @param paidAmount their amount
 * @param ledgerRows events applied (ledger rows)
 * @param ledgerAmount the ledger's amount
 * @param incomeAmount the streamers' income total
 * @param rankingAmount the rooms' rankings total
 * @param duplicatesSuppressed duplicate events skipped by settlement
 * @param deadLettered events dead-lettered
 * @param poisonInjected poison events injected
 * @param alertsRaised reconciliation alerts raised for the injected disagreements
 * @param disagreementsInjected charges injected at the provider for FAILED orders (each must raise one alert)
 * @param chargedThenFailed payment calls that charged and then answered with an error (settled PAID by the re-check)
 * @param unresolvedOrders orders still PAYMENT_UNKNOWN at the end
 * @param otherAlerts open reconciliation alerts besides the injected ones (must be none)
 */
public record ScenarioReport(long seconds, Map<String, Map<String, Long>> requests, Map<String, long[]> latencies,
    long panelAnswered, long panelTotal, Map<String, Long> panelBySource, long ordersCreated, long retriedSends,
    long paidOrders, long paidAmount, long ledgerRows, long ledgerAmount, long incomeAmount, long rankingAmount,
    long duplicatesSuppressed, long deadLettered, long poisonInjected, long alertsRaised,
    long disagreementsInjected, long chargedThenFailed, long unresolvedOrders, long otherAlerts) {

  /** @return panels answered / panels asked for */
  public double availability() {
    return panelTotal == 0 ? 1 : (double) panelAnswered / panelTotal;
  }

  /** @return whether orders, events applied and every ledger total agree exactly */
  public boolean reconciles() {
    return paidOrders == ledgerRows && paidAmount == ledgerAmount && ledgerAmount == incomeAmount
        && ledgerAmount == rankingAmount;
  }

  /** @return the reasons the run failed; empty when it passed */
  public List<String> failures() {
    List<String> f = new ArrayList<>();
    if (!reconciles()) {
      f.add(String.format(Locale.ROOT, "ledger does not reconcile: %d PAID orders (%d coins) vs %d ledger rows"
          + " (%d coins), income %d, rankings %d", paidOrders, paidAmount, ledgerRows, ledgerAmount, incomeAmount,
          rankingAmount));
    }
    if (availability() < 0.9999) {
      f.add(String.format(Locale.ROOT, "panel availability %.4f%% < 99.99%%", availability() * 100));
    }
    if (alertsRaised != disagreementsInjected) {
      f.add("reconciliation alerts raised (" + alertsRaised + ") != disagreements injected ("
          + disagreementsInjected + ")");
    }
    if (otherAlerts != 0) {
      f.add(otherAlerts + " reconciliation alert(s) besides the injected disagreements");
    }
    if (unresolvedOrders != 0) {
      f.add(unresolvedOrders + " order(s) still PAYMENT_UNKNOWN after settlement");
    }
    if (deadLettered != poisonInjected) {
      f.add("dead-lettered (" + deadLettered + ") != poison events injected (" + poisonInjected + ")");
    }
    return f;
  }

  /** @return the report as text */
  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "GiftKit demo scenario: %d s of load%n%n", seconds));
    sb.append(String.format(Locale.ROOT, "%-14s %10s %10s %10s %10s %9s %9s%n", "endpoint", "2xx", "4xx", "5xx",
        "error", "p50 ms", "p99 ms"));
    for (Map.Entry<String, Map<String, Long>> e : requests.entrySet()) {
      Map<String, Long> o = e.getValue();
      long[] l = latencies.getOrDefault(e.getKey(), new long[] {0, 0});
      sb.append(String.format(Locale.ROOT, "%-14s %10d %10d %10d %10d %9.1f %9.1f%n", e.getKey(),
          o.getOrDefault("2xx", 0L), o.getOrDefault("4xx", 0L), o.getOrDefault("5xx", 0L),
          o.getOrDefault("error", 0L), l[0] / 1000.0, l[1] / 1000.0));
    }
    sb.append(String.format(Locale.ROOT, "%npanel availability   %.4f%% (%d of %d answered; privileged part %s)%n",
        availability() * 100, panelAnswered, panelTotal, panelBySource));
    sb.append(String.format(Locale.ROOT, "orders created       %d (retried sends answered with the same order: %d)%n",
        ordersCreated, retriedSends));
    sb.append(String.format(Locale.ROOT, "PAID orders          %d, %d coins%n", paidOrders, paidAmount));
    sb.append(String.format(Locale.ROOT, "events applied       %d ledger rows, %d coins; income %d; rankings %d -> %s%n",
        ledgerRows, ledgerAmount, incomeAmount, rankingAmount, reconciles() ? "RECONCILES" : "DOES NOT RECONCILE"));
    sb.append(String.format(Locale.ROOT, "duplicates suppressed %d events%n", duplicatesSuppressed));
    sb.append(String.format(Locale.ROOT, "dead-lettered        %d (poison injected: %d)%n", deadLettered, poisonInjected));
    sb.append(String.format(Locale.ROOT, "charged, answer lost %d payment calls (settled PAID by their re-checks)%n",
        chargedThenFailed));
    sb.append(String.format(Locale.ROOT, "unresolved orders    %d still PAYMENT_UNKNOWN%n", unresolvedOrders));
    sb.append(String.format(Locale.ROOT, "reconciliation       %d alerts raised (charges injected on FAILED orders: %d);"
        + " other open alerts: %d%n", alertsRaised, disagreementsInjected, otherAlerts));
    List<String> f = failures();
    sb.append(f.isEmpty() ? "\nPASSED\n" : "\nFAILED:\n  " + String.join("\n  ", f) + "\n");
    return sb.toString();
  }
}
