package io.giftkit.demo.gifts;

import io.giftkit.boot.coord.GiftkitServiceResolvers;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceResolver;
import io.giftkit.core.Site;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Calls the payment service through the instance discovery finds, <b>local site first</b>.
 *
 * <p>With etcd, the instances are those registered as {@code giftkit.demo.payment.service}: a
 * {@link ServiceResolver} follows them and chooses round-robin among the local site's, and among the
 * other sites' only when the local site has none. An instance that does not answer (taken down; for a
 * crashed host, until its lease ends) is skipped for the next one in the same order: it charged
 * nothing, so trying another is safe. Without etcd the configured list is the static discovery, in the
 * same order. When none answers, the call fails with {@link PaymentUnreachableException} (the breaker
 * counts it, the order's re-check asks again later).
 *
 * <p>Every call names its instance in the meter {@code giftkit.demo.payment.calls} (tags
 * {@code instance}, {@code site}); {@link #callsBySite()} sums them.
 */
@Component
public class PaymentGateway {

  /** No payment instance answered: nothing was charged. */
  public static final class PaymentUnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PaymentUnreachableException(String message) {
      super(message);
    }
  }

  private final PaymentProvider provider;
  private final PaymentInstances instances;
  private final GiftkitServiceResolvers resolvers;
  private final Site local;
  private final MeterRegistry meters;
  private final List<ServiceInstance> staticOrder;
  private final int staticLocal;
  private final AtomicLong next = new AtomicLong();
  private final LongAdder skipped = new LongAdder();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> bySite = new ConcurrentHashMap<>();
  private volatile ServiceResolver resolver;

  public PaymentGateway(PaymentProvider provider, PaymentInstances instances,
      ObjectProvider<GiftkitServiceResolvers> resolvers, Site local, MeterRegistry meters) {
    this.provider = provider;
    this.instances = instances;
    this.resolvers = instances.discovered() ? resolvers.getIfAvailable() : null;
    this.local = local;
    this.meters = meters;
    List<ServiceInstance> order = new ArrayList<>();
    instances.hosted().stream().map(PaymentInstances.Hosted::instance).filter(i -> i.site().equals(local))
        .forEach(order::add);
    this.staticLocal = order.size();
    instances.hosted().stream().map(PaymentInstances.Hosted::instance).filter(i -> !i.site().equals(local))
        .forEach(order::add);
    this.staticOrder = List.copyOf(order);
  }

  /**
   * Calls the payment service.
   *
   * @param <T> the answer's type
   * @param call what to ask the provider
   * @return its answer
   * @throws PaymentUnreachableException if no instance answers
   */
  public <T> T call(Function<PaymentProvider, T> call) {
    List<ServiceInstance> tried = null;
    ServiceInstance first = first();
    if (first != null) {
      if (answers(first)) {
        return answer(first, call);
      }
      tried = new ArrayList<>();
      tried.add(first);
    }
    for (ServiceInstance i : rest()) {
      if (first != null && i.equals(first)) {
        continue;
      }
      if (answers(i)) {
        return answer(i, call);
      }
      if (tried == null) {
        tried = new ArrayList<>();
      }
      tried.add(i);
    }
    throw new PaymentUnreachableException("no instance of the payment service answers (discovery: "
        + (resolvers == null ? "static list" : "etcd") + "; tried: "
        + (tried == null ? "none, none is known" : tried.stream().map(ServiceInstance::instanceId).toList()) + ")");
  }

  private ServiceInstance first() {
    if (resolvers != null) {
      return resolver().choose().orElse(null);
    }
    int n = staticLocal > 0 ? staticLocal : staticOrder.size();
    return n == 0 ? null : staticOrder.get((int) Math.floorMod(next.getAndIncrement(), (long) n));
  }

  private List<ServiceInstance> rest() {
    if (resolvers == null) {
      return staticOrder;
    }
    List<ServiceInstance> all = new ArrayList<>();
    resolver().instances().values().forEach(all::addAll); // local site first
    return all;
  }

  private ServiceResolver resolver() {
    ServiceResolver r = resolver;
    if (r == null) {
      r = resolvers.resolver(instances.service()); // the same one on every call; started on the first
      resolver = r;
    }
    return r;
  }

  /** @return whether the instance answers: one hosted here only while up; another demo instance's while registered */
  private boolean answers(ServiceInstance i) {
    PaymentInstances.Hosted hosted = instances.hostedAs(i);
    if (hosted != null && !hosted.isUp()) {
      skipped.increment();
      return false;
    }
    return true;
  }

  private <T> T answer(ServiceInstance i, Function<PaymentProvider, T> call) {
    PaymentInstances.Hosted hosted = instances.hostedAs(i);
    if (hosted != null) {
      hosted.answered();
    }
    Counter c = counters.get(i.instanceId());
    if (c == null) {
      c = counters.computeIfAbsent(i.instanceId(), id -> Counter.builder("giftkit.demo.payment.calls")
          .description("payment calls, by the instance discovery chose").tag("instance", id)
          .tag("site", i.site().name()).register(meters));
    }
    c.increment();
    LongAdder site = bySite.get(i.site().name());
    if (site == null) {
      site = bySite.computeIfAbsent(i.site().name(), s -> new LongAdder());
    }
    site.increment();
    return call.apply(provider);
  }

  /** @return payment calls made so far, by the site of the instance that answered */
  public Map<String, Long> callsBySite() {
    Map<String, Long> m = new LinkedHashMap<>();
    bySite.forEach((site, n) -> m.put(site, n.sum()));
    return m;
  }

  /** @return instances skipped because they did not answer */
  public long skipped() {
    return skipped.sum();
  }

  /** @return what the endpoint shows: the discovery's mode and the instances it knows, by site */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("discovery", resolvers == null ? "static" : "etcd");
    m.put("service", instances.service());
    m.put("localSite", local.name());
    Map<String, List<String>> known = new LinkedHashMap<>();
    if (resolvers == null) {
      staticOrder.forEach(i -> known.computeIfAbsent(i.site().name(), s -> new ArrayList<>()).add(i.instanceId()));
    } else {
      resolver().instances().forEach((site, list) -> known.put(site.name(),
          list.stream().map(ServiceInstance::instanceId).toList()));
    }
    m.put("instances", known);
    m.put("callsBySite", callsBySite());
    m.put("skipped", skipped());
    m.put("hosted", instances.describe());
    return m;
  }

  /** @return the local site's instances discovery knows now (for the tests and the endpoint) */
  public List<ServiceInstance> localInstances() {
    if (resolvers == null) {
      return staticOrder.subList(0, staticLocal);
    }
    return Optional.ofNullable(resolver().instances().get(local)).orElse(List.of());
  }
}
