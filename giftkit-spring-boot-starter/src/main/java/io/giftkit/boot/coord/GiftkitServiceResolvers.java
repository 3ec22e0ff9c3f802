package io.giftkit.boot.coord;

import io.etcd.jetcd.Client;
import io.giftkit.core.Site;
import io.giftkit.coord.ServiceResolver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Makes one {@link ServiceResolver} per service name, on the starter's etcd client, key prefix and local
 * site, starts it on first use and keeps it until the context closes (then all are closed):
 *
 * <pre>{@code
 * ServiceInstance target = resolvers.resolver("gift-api").choose().orElseThrow();
 * }</pre>
 *
 * <p>Thread-safe; {@link #resolver(String)} blocks for one etcd read the first time a service is
 * asked for. At most {@code giftkit.coord.max-resolvers} services are followed at once (each holds a
 * watch): asking for one more throws {@link IllegalStateException} naming the limit.
 */
public final class GiftkitServiceResolvers implements AutoCloseable {

  private final Client client;
  private final String keyPrefix;
  private final Site localSite;
  private final Duration timeout;
  private final int maxResolvers;
  private final Map<String, ServiceResolver> resolvers = new ConcurrentHashMap<>();
  private final List<Consumer<ServiceResolver>> onStart = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  GiftkitServiceResolvers(Client client, String keyPrefix, Site localSite, Duration timeout, int maxResolvers) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.localSite = localSite;
    this.timeout = timeout;
    this.maxResolvers = maxResolvers;
  }

  /**
   * The resolver of one service, started (its instances read once, then watched) the first time.
   *
   * @param service the service's name, as its instances register it
   * @return the service's resolver, the same one on every call
   * @throws io.giftkit.core.InvalidConfigException if the name is blank or malformed
   * @throws IllegalStateException if {@code giftkit.site} is not set, if {@code giftkit.coord.max-resolvers}
   *     services are followed already, or after the context closed
   * @throws io.giftkit.core.GiftkitException if etcd does not answer the first read within the timeout
   */
  public ServiceResolver resolver(String service) {
    ServiceResolver existing = resolvers.get(service);
    if (existing != null) {
      return existing;
    }
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("GiftkitServiceResolvers is closed (the context is shutting down)");
      }
      existing = resolvers.get(service);
      if (existing != null) {
        return existing;
      }
      if (localSite == null) {
        throw new IllegalStateException("giftkit.site must be set to resolve service '" + service
            + "' (resolvers prefer the local site's instances)");
      }
      if (resolvers.size() >= maxResolvers) {
        throw new IllegalStateException("giftkit.coord.max-resolvers is " + maxResolvers + ": already following "
            + resolvers.keySet() + ", so not '" + service + "' too");
      }
      ServiceResolver r = ServiceResolver.builder(client, service, localSite).keyPrefix(keyPrefix).timeout(timeout)
          .start();
      resolvers.put(service, r);
      onStart.forEach(c -> c.accept(r));
      return r;
    }
  }

  /** @return the resolvers started so far, by service name (a snapshot) */
  public Map<String, ServiceResolver> resolvers() {
    return Map.copyOf(resolvers);
  }

  /** @return the local site the resolvers prefer ({@code giftkit.site}); null when it is not set */
  public Site localSite() {
    return localSite;
  }

  /** @return watch errors of every resolver started so far, in total (for metrics) */
  public long watchErrors() {
    return resolvers.values().stream().mapToLong(ServiceResolver::watchErrors).sum();
  }

  /** @return watch reconnects of every resolver started so far, in total (for metrics) */
  public long watchReconnects() {
    return resolvers.values().stream().mapToLong(ServiceResolver::watchReconnects).sum();
  }

  /** Tells {@code action} of every resolver started so far, and of each one started later (metrics). */
  synchronized void eachResolver(Consumer<ServiceResolver> action) {
    resolvers.values().forEach(action);
    onStart.add(action);
  }

  /** Closes every resolver (their watches stop). */
  @Override
  public synchronized void close() {
    closed = true;
    resolvers.values().forEach(ServiceResolver::close);
  }

  @Override
  public String toString() {
    return "GiftkitServiceResolvers[site " + localSite + ", services " + resolvers.keySet() + "]";
  }
}
