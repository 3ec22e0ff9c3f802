package io.giftkit.demo.gifts;

import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistration;
import io.giftkit.coord.ServiceRegistry;
import io.giftkit.demo.cluster.DemoInstance;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The simulated payment service's instances this demo instance hosts, per site
 * ({@code giftkit.demo.payment.instances}, entries {@code <site>:<name>}, e.g.
 * {@code a:pay-a-1,a:pay-a-2,b:pay-b-1}). They all front the one simulated provider (its charges
 * database); what differs is where they run and whether they are up.
 *
 * <p>With etcd each instance is registered in the service discovery as service
 * {@code giftkit.demo.payment.service} (default {@code payment}) under a lease, with id
 * {@code <name>.<demo instance id>} and metadata {@code host} (the hosting demo instance) and
 * {@code name}. {@link #down} takes one down: it stops answering and is deregistered, so resolvers
 * drop it; {@link #up} brings it back and registers it again. Without etcd the same list is the static
 * discovery (see {@link PaymentGateway}).
 */
@Component
public class PaymentInstances implements DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(PaymentInstances.class);

  /** One simulated payment instance hosted here. */
  public static final class Hosted {
    private final ServiceInstance instance;
    private final String name;
    private final LongAdder calls = new LongAdder();
    private volatile boolean up = true;
    private volatile ServiceRegistration registration;

    Hosted(ServiceInstance instance, String name) {
      this.instance = instance;
      this.name = name;
    }

    /** @return as registered (or listed, without etcd) */
    public ServiceInstance instance() {
      return instance;
    }

    /** @return its configured name, e.g. {@code pay-a-1} */
    public String name() {
      return name;
    }

    /** @return whether it answers calls */
    public boolean isUp() {
      return up;
    }

    /** @return calls it answered */
    public long calls() {
      return calls.sum();
    }

    void answered() {
      calls.increment();
    }
  }

  private final ServiceRegistry registry;
  private final String service;
  private final DemoInstance host;
  private final Map<String, Hosted> byName = new LinkedHashMap<>();

  public PaymentInstances(ObjectProvider<ServiceRegistry> registry, DemoInstance host,
      @Value("${giftkit.demo.payment.service:payment}") String service,
      @Value("${giftkit.demo.payment.instances:}") List<String> entries) {
    this.registry = registry.getIfAvailable();
    this.service = service;
    this.host = host;
    for (String entry : entries) {
      String e = entry.trim();
      int colon = e.indexOf(':');
      if (colon <= 0 || colon == e.length() - 1) {
        throw new IllegalArgumentException("giftkit.demo.payment.instances: each entry must be <site>:<name>, e.g."
            + " a:pay-a-1, but one was '" + entry + "'");
      }
      String name = e.substring(colon + 1);
      if (byName.containsKey(name)) {
        throw new IllegalArgumentException("giftkit.demo.payment.instances: the name '" + name + "' is listed twice");
      }
      ServiceInstance instance = ServiceInstance.of(service, e.substring(0, colon), name + "." + host.id(),
          "in-process:" + host.id() + "/" + name, Map.of("host", host.id(), "name", name));
      byName.put(name, new Hosted(instance, name));
    }
    if (this.registry == null) {
      LOG.warn("GiftKit demo: no etcd (giftkit.coord.endpoints is not set): the payment instances {} are a static"
          + " list (giftkit.demo.payment.instances), not discovered; nothing registers this instance either;"
          + " set GIFTKIT_ETCD_ENDPOINTS (real profile) or giftkit.coord.endpoints for discovery", byName.keySet());
    } else {
      byName.values().forEach(this::register);
    }
  }

  private void register(Hosted h) {
    h.registration = registry.register(h.instance);
  }

  /** @return whether the instances are registered in etcd (else they are the static discovery) */
  public boolean discovered() {
    return registry != null;
  }

  /** @return the payment service's name in the discovery */
  public String service() {
    return service;
  }

  /** @return the demo instance hosting them */
  public DemoInstance host() {
    return host;
  }

  /** @return the hosted instances, in configuration order */
  public List<Hosted> hosted() {
    return List.copyOf(byName.values());
  }

  /**
   * @param instance a discovered (or listed) instance
   * @return the hosted instance it is, or null if another demo instance hosts it
   */
  Hosted hostedAs(ServiceInstance instance) {
    if (!host.id().equals(instance.metadata().get("host"))) {
      return null;
    }
    return byName.get(instance.metadata().get("name"));
  }

  /**
   * Takes an instance down: it stops answering at once and is deregistered (with etcd).
   *
   * @param name its configured name
   * @return its state
   * @throws IllegalArgumentException naming the unknown instance
   */
  public synchronized Hosted down(String name) {
    Hosted h = find(name);
    h.up = false;
    ServiceRegistration r = h.registration;
    h.registration = null;
    if (r != null) {
      r.close();
    }
    LOG.warn("GiftKit demo: payment instance {} (site {}) is down", name, h.instance.site().name());
    return h;
  }

  /**
   * Brings an instance back: it answers again and is registered again (with etcd).
   *
   * @param name its configured name
   * @return its state
   * @throws IllegalArgumentException naming the unknown instance
   */
  public synchronized Hosted up(String name) {
    Hosted h = find(name);
    if (!h.up && registry != null) {
      register(h);
    }
    h.up = true;
    LOG.info("GiftKit demo: payment instance {} (site {}) is up", name, h.instance.site().name());
    return h;
  }

  private Hosted find(String name) {
    Hosted h = byName.get(name);
    if (h == null) {
      throw new IllegalArgumentException("no payment instance named '" + name + "' here; hosted: " + byName.keySet());
    }
    return h;
  }

  /** @return what the endpoint shows */
  public List<Map<String, Object>> describe() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Hosted h : byName.values()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", h.name);
      m.put("site", h.instance.site().name());
      m.put("id", h.instance.instanceId());
      m.put("up", h.up);
      m.put("registered", h.registration != null && h.registration.isRegistered());
      m.put("calls", h.calls());
      out.add(m);
    }
    return out;
  }

  @Override
  public synchronized void destroy() {
    for (Hosted h : byName.values()) {
      ServiceRegistration r = h.registration;
      h.registration = null;
      if (r != null) {
        r.close();
      }
    }
  }
}
