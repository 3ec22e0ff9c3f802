package io.giftkit.coord;

import io.giftkit.core.Site;
import java.util.List;
import java.util.Map;

/**
 * Hears that a {@link ServiceResolver}'s view of its service changed (an instance registered,
 * deregistered, vanished with its lease, or its address or metadata changed). Called on a jetcd
 * thread, one call at a time, after {@link ServiceResolver#choose()} already uses the new view; it
 * must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface ServiceListener {

  /**
   * @param service the service's name
   * @param instances every live instance, grouped by site (the local site first), as
   *     {@link ServiceResolver#instances()} returns them
   */
  void onChange(String service, Map<Site, List<ServiceInstance>> instances);
}
