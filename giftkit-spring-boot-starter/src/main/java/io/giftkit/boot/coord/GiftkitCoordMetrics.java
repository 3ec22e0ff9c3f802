package io.giftkit.boot.coord;

import io.giftkit.coord.ConsistentKv;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistration;
import io.giftkit.coord.ServiceResolver;
import io.giftkit.core.Site;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The {@code giftkit.coord.*} meters, read from giftkit-coord's own counters (nothing on the lock path
 * is added for them):
 * <ul>
 *   <li>{@code giftkit.coord.lock.wait} (function timer): granted acquisitions and the time from the
 *       call to the grant; {@code giftkit.coord.lock.hold} (function timer): ended holds (released or
 *       lost) and how long they lasted; {@code giftkit.coord.locks.held} and
 *       {@code giftkit.coord.leaderships.held} (gauges).</li>
 *   <li>{@code giftkit.coord.lease.losses} (function counter, tag {@code kind}: {@code lock},
 *       {@code leadership}, and {@code registration} — the own registration's re-registrations after a
 *       lost lease).</li>
 *   <li>{@code giftkit.coord.watch.reconnects} and {@code giftkit.coord.watch.errors} (function
 *       counters, tag {@code source}: {@code kv}, {@code elections}, {@code discovery}).</li>
 *   <li>{@code giftkit.coord.discovery.instances} (gauge, tags {@code service}, {@code site}): live
 *       instances of each service followed through {@link GiftkitServiceResolvers}, per site (a site
 *       seen once stays, at 0 when empty); {@code giftkit.coord.discovery.changes} (counter, tag
 *       {@code service}): views of the service the resolver published.</li>
 * </ul>
 * Thread-safe; binding registers the resolvers started so far and each one started later.
 */
public final class GiftkitCoordMetrics implements MeterBinder {

  private final EtcdLocks locks;
  private final EtcdElections elections;
  private final ConsistentKv kv;
  private final GiftkitServiceResolvers resolvers;
  private final ObjectProvider<ServiceRegistration> registration;

  GiftkitCoordMetrics(EtcdLocks locks, EtcdElections elections, ConsistentKv kv, GiftkitServiceResolvers resolvers,
      ObjectProvider<ServiceRegistration> registration) {
    this.locks = locks;
    this.elections = elections;
    this.kv = kv;
    this.resolvers = resolvers;
    this.registration = registration;
  }

  /** @param registry where to register the meters */
  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionTimer.builder("giftkit.coord.lock.wait", locks, EtcdLocks::acquisitions,
            l -> l.acquireWaitTime().toNanos(), TimeUnit.NANOSECONDS)
        .description("granted etcd lock acquisitions: time from the call to the grant").register(registry);
    FunctionTimer.builder("giftkit.coord.lock.hold", locks, EtcdLocks::holds, l -> l.holdTime().toNanos(),
            TimeUnit.NANOSECONDS)
        .description("ended etcd lock holds (released or lost): time from the grant to the end").register(registry);
    Gauge.builder("giftkit.coord.locks.held", locks, l -> l.held().size())
        .description("etcd locks held by this application now").register(registry);
    Gauge.builder("giftkit.coord.leaderships.held", elections, e -> e.held().size())
        .description("leaderships held by this application now").register(registry);
    counter(registry, "giftkit.coord.lease.losses", "kind", "lock", locks, EtcdLocks::lostLocks,
        "held etcd locks lost (lease expired, revoked, or not renewed in time)");
    counter(registry, "giftkit.coord.lease.losses", "kind", "leadership", elections, EtcdElections::lostLeaderships,
        "leaderships lost (lease expired, revoked, or not renewed in time)");
    ServiceRegistration own = registration.getIfAvailable();
    if (own != null) {
      counter(registry, "giftkit.coord.lease.losses", "kind", "registration", own,
          ServiceRegistration::reRegistrations, "the own registration registered again after its lease was lost");
    }
    counter(registry, "giftkit.coord.watch.reconnects", "source", "kv", kv, ConsistentKv::watchReconnects,
        "watch streams reopened after one failed");
    counter(registry, "giftkit.coord.watch.reconnects", "source", "elections", elections,
        EtcdElections::watchReconnects, "watch streams reopened after one failed");
    counter(registry, "giftkit.coord.watch.reconnects", "source", "discovery", resolvers,
        GiftkitServiceResolvers::watchReconnects, "watch streams reopened after one failed");
    counter(registry, "giftkit.coord.watch.errors", "source", "kv", kv, ConsistentKv::watchErrors,
        "watch streams that failed or ended");
    counter(registry, "giftkit.coord.watch.errors", "source", "elections", elections, EtcdElections::watchErrors,
        "watch streams that failed or ended");
    counter(registry, "giftkit.coord.watch.errors", "source", "discovery", resolvers,
        GiftkitServiceResolvers::watchErrors, "watch streams that failed or ended");
    resolvers.eachResolver(r -> bindResolver(registry, r));
  }

  private static <T> void counter(MeterRegistry registry, String name, String tag, String value, T obj,
      ToDoubleFunction<T> f, String description) {
    FunctionCounter.builder(name, obj, f).tag(tag, value).description(description).register(registry);
  }

  private static void bindResolver(MeterRegistry registry, ServiceResolver resolver) {
    Counter changes = Counter.builder("giftkit.coord.discovery.changes").tag("service", resolver.service())
        .description("views of the service's instances published by its resolver").register(registry);
    java.util.Set<Site> gauged = java.util.concurrent.ConcurrentHashMap.newKeySet(); // each site's gauge once
    if (resolver.localSite() != null) {
      instancesGauge(registry, resolver, resolver.localSite(), gauged);
    }
    resolver.instances().keySet().forEach(site -> instancesGauge(registry, resolver, site, gauged));
    resolver.addListener((service, instances) -> {
      changes.increment();
      instances.keySet().forEach(site -> instancesGauge(registry, resolver, site, gauged));
    });
  }

  private static void instancesGauge(MeterRegistry registry, ServiceResolver resolver, Site site,
      java.util.Set<Site> gauged) {
    if (!gauged.add(site)) {
      return; // registered already (Micrometer would warn and ignore a second registration)
    }
    Gauge.builder("giftkit.coord.discovery.instances", resolver,
            r -> r.instances().getOrDefault(site, List.<ServiceInstance>of()).size())
        .tags("service", resolver.service(), "site", site.name())
        .description("live instances of the service in the site").register(registry);
  }
}
