package io.giftkit.boot.coord;

import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.EtcdLock;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.coord.Leadership;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistration;
import io.giftkit.coord.ServiceResolver;
import io.giftkit.core.Site;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The endpoint's {@code coord} part: endpoints (never the credentials), held locks with their tokens,
 * leaderships, the own registration, and the discovered instances of every followed service by site.
 */
final class CoordEndpointPart implements GiftkitEndpointContributor {

  private final List<String> endpoints;
  private final EtcdLocks locks;
  private final EtcdElections elections;
  private final ObjectProvider<ServiceRegistration> registration;
  private final GiftkitServiceResolvers resolvers;

  CoordEndpointPart(List<String> endpoints, EtcdLocks locks, EtcdElections elections,
      ObjectProvider<ServiceRegistration> registration, GiftkitServiceResolvers resolvers) {
    this.endpoints = List.copyOf(endpoints);
    this.locks = locks;
    this.elections = elections;
    this.registration = registration;
    this.resolvers = resolvers;
  }

  @Override
  public String key() {
    return "coord";
  }

  @Override
  public Object describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("endpoints", endpoints);
    List<Map<String, Object>> held = new ArrayList<>();
    for (EtcdLock l : sorted(locks.held(), Comparator.comparing(EtcdLock::name))) {
      Map<String, Object> lock = new LinkedHashMap<>();
      lock.put("name", l.name());
      lock.put("fencingToken", l.fencingToken());
      lock.put("key", l.key());
      lock.put("held", l.isHeld());
      held.add(lock);
    }
    m.put("locks", held);
    List<Map<String, Object>> leading = new ArrayList<>();
    for (Leadership l : sorted(elections.held(), Comparator.comparing(Leadership::election))) {
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("election", l.election());
      one.put("value", l.value());
      one.put("token", l.token());
      one.put("leader", l.isLeader());
      leading.add(one);
    }
    m.put("leaderships", leading);
    ServiceRegistration own = registration.getIfAvailable();
    if (own != null) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("service", own.instance().service());
      r.put("site", own.instance().site().name());
      r.put("instanceId", own.instance().instanceId());
      r.put("address", own.instance().address());
      r.put("registered", own.isRegistered());
      r.put("reRegistrations", own.reRegistrations());
      m.put("registration", r);
    }
    Map<String, Object> discovery = new LinkedHashMap<>();
    for (Map.Entry<String, ServiceResolver> e : new java.util.TreeMap<>(resolvers.resolvers()).entrySet()) {
      Map<String, Object> bySite = new LinkedHashMap<>();
      for (Map.Entry<Site, List<ServiceInstance>> s : e.getValue().instances().entrySet()) {
        List<Map<String, Object>> instances = new ArrayList<>();
        for (ServiceInstance i : s.getValue()) {
          Map<String, Object> one = new LinkedHashMap<>();
          one.put("instanceId", i.instanceId());
          one.put("address", i.address());
          one.put("metadata", i.metadata());
          instances.add(one);
        }
        bySite.put(s.getKey().name(), instances);
      }
      discovery.put(e.getKey(), bySite);
    }
    m.put("discovery", discovery);
    return m;
  }

  private static <T> List<T> sorted(List<T> list, Comparator<T> order) {
    List<T> copy = new ArrayList<>(list);
    copy.sort(order);
    return copy;
  }
}
