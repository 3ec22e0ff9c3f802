package io.giftkit.boot.coord;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.coord.ServiceRegistration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code giftkitCoord}: asks every endpoint for its status at once (each bounded by the timeout). UP when
 * at least one member answers and knows a leader (the cluster serves); DOWN otherwise, with an
 * {@code error} naming each endpoint that did not answer and why. Details: the endpoint count, each
 * member's answer, the locks and leaderships held, the own registration. The credentials are never
 * part of it (the endpoints hold none: checked at start-up).
 */
final class CoordHealthIndicator implements HealthIndicator {

  private final Client client;
  private final List<String> endpoints;
  private final Duration timeout;
  private final EtcdLocks locks;
  private final EtcdElections elections;
  private final ObjectProvider<ServiceRegistration> registration;

  CoordHealthIndicator(Client client, List<String> endpoints, Duration timeout, EtcdLocks locks,
      EtcdElections elections, ObjectProvider<ServiceRegistration> registration) {
    this.client = client;
    this.endpoints = List.copyOf(endpoints);
    this.timeout = timeout;
    this.locks = locks;
    this.elections = elections;
    this.registration = registration;
  }

  @Override
  public Health health() {
    List<CompletableFuture<StatusResponse>> asked = new ArrayList<>();
    for (String e : endpoints) {
      asked.add(client.getMaintenanceClient().statusMember(e));
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Object> members = new LinkedHashMap<>();
    List<String> failing = new ArrayList<>();
    boolean serving = false;
    for (int i = 0; i < endpoints.size(); i++) {
      String endpoint = endpoints.get(i);
      try {
        StatusResponse s = asked.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        boolean hasLeader = s.getLeader() != 0;
        serving |= hasLeader;
        members.put(endpoint, hasLeader ? "UP (etcd " + s.getVersion() + ", leader " + Long.toHexString(s.getLeader())
            + (s.getLeader() == s.getHeader().getMemberId() ? ", this member" : "") + ")" : "UP but without a leader");
        if (!hasLeader) {
          failing.add(endpoint + " knows no leader");
        }
      } catch (TimeoutException e) {
        asked.get(i).cancel(true);
        failing.add(endpoint + " did not answer within " + timeout.toMillis() + " ms");
        members.put(endpoint, "DOWN: no answer within " + timeout.toMillis() + " ms");
      } catch (ExecutionException e) {
        String why = reason(e.getCause());
        failing.add(endpoint + " failed: " + why);
        members.put(endpoint, "DOWN: " + why);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Health.unknown().withDetail("error", "interrupted").build();
      }
    }
    Health.Builder h = serving ? Health.up() : Health.down();
    h.withDetail("endpoints", endpoints.size()).withDetail("members", members);
    if (!failing.isEmpty()) {
      h.withDetail("error", String.join("; ", failing));
    }
    h.withDetail("heldLocks", locks.held().size()).withDetail("leaderships", elections.held().size());
    ServiceRegistration own = registration.getIfAvailable();
    if (own != null) {
      h.withDetail("registered", own.isRegistered());
    }
    return h.build();
  }

  private static String reason(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String first = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return root == t || root.getMessage() == null ? first : first + " (" + root.getClass().getSimpleName() + ": "
        + root.getMessage() + ")";
  }
}
