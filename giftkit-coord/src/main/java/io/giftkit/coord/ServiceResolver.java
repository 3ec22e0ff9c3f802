package io.giftkit.coord;

import io.etcd.jetcd.Client;
import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Site;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the live instances of one service that {@link ServiceRegistry}s registered, and chooses one
 * per call, <b>preferring the local site</b>:
 *
 * <pre>{@code
 * ServiceResolver giftApi = ServiceResolver.builder(client, "gift-api", Site.of("a")).start();
 * ServiceInstance target = giftApi.choose().orElseThrow(() -> new IllegalStateException("no gift-api"));
 * }</pre>
 *
 * <p>{@link #choose()} goes round-robin over the local site's instances; only when the local site has
 * none does it go round-robin over the other sites' instances. The resolver reads the service's
 * instances once when it starts, then follows them with a {@link KvWatch} (which survives member
 * restarts and compaction; after a compaction it re-reads the whole list). An instance leaves the
 * list when it deregisters or when etcd deletes its key because its lease ended, that is at most the
 * registry's lease TTL after a crash (see {@link ServiceRegistry}).
 *
 * <p>Thread-safe. {@link #choose()} and {@link #instances()} read an immutable view without locking
 * and never block; {@link #choose()} allocates only its {@code Optional}. The view is replaced, whole,
 * by the watch's thread. The {@link Client} stays the caller's.
 */
public final class ServiceResolver implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceResolver.class);
  private static final Comparator<ServiceInstance> BY_ID = Comparator.comparing(ServiceInstance::instanceId);

  private final String service;
  private final Site localSite;
  private final Listeners<ServiceListener> listeners;
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private final Map<String, ServiceInstance> byKey = new HashMap<>(); // only the watch's thread touches it
  private volatile View view;
  private final KvWatch watch;

  /** An immutable view: what {@link #choose()} and {@link #instances()} read. */
  private record View(List<ServiceInstance> local, List<ServiceInstance> remote,
      Map<Site, List<ServiceInstance>> bySite) {}

  private ServiceResolver(Builder b) {
    this.service = b.service;
    this.localSite = b.localSite;
    this.listeners = Listeners.create("service resolver '" + service + "'");
    String prefix = InstanceCodec.servicePrefix(b.keyPrefix, service);
    KvWatch.Snapshot now = Etcd.await(KvWatch.read(b.client, prefix, "", true), b.timeout,
        "reading the instances of service '" + service + "'");
    reset(now.entries());
    this.watch = KvWatch.start(b.client, prefix, "", true, now.revision() + 1, new KvWatchListener() {
      @Override
      public void onEvent(KvEvent event) {
        if (event.type() == KvEvent.Type.PUT) {
          put(event.key(), event.value());
        } else {
          byKey.remove(event.key());
        }
        publish();
      }

      @Override
      public void onCompacted(long compactRevision, List<KvEntry> current, long revision) {
        reset(current);
      }
    }, b.timeout, new KvWatch.Counters());
  }

  /**
   * @param client the jetcd client; the caller keeps owning it
   * @param service the service to resolve (see {@link ServiceInstance#service()} for the rule)
   * @param localSite the site this process runs in
   * @return a builder
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   */
  public static Builder builder(Client client, String service, Site localSite) {
    return new Builder(client, service, localSite);
  }

  private void reset(List<KvEntry> entries) {
    byKey.clear();
    for (KvEntry e : entries) {
      put(e.key(), e.value());
    }
    publish();
  }

  private void put(String key, String value) {
    try {
      byKey.put(key, InstanceCodec.decode(service, key, value));
    } catch (IllegalArgumentException e) {
      byKey.remove(key);
      malformed.incrementAndGet();
      LOG.warn("service '{}': ignoring key '{}', not a registered instance: {}", service, key, e.getMessage());
    }
  }

  private void publish() {
    List<ServiceInstance> local = new ArrayList<>();
    List<ServiceInstance> remote = new ArrayList<>();
    Map<String, List<ServiceInstance>> others = new TreeMap<>();
    for (ServiceInstance i : byKey.values()) {
      if (i.site().equals(localSite)) {
        local.add(i);
      } else {
        remote.add(i);
        others.computeIfAbsent(i.site().name(), s -> new ArrayList<>()).add(i);
      }
    }
    local.sort(BY_ID);
    remote.sort(Comparator.comparing((ServiceInstance i) -> i.site().name()).thenComparing(BY_ID));
    Map<Site, List<ServiceInstance>> bySite = new LinkedHashMap<>();
    if (!local.isEmpty()) {
      bySite.put(localSite, List.copyOf(local));
    }
    for (Map.Entry<String, List<ServiceInstance>> e : others.entrySet()) {
      e.getValue().sort(BY_ID);
      bySite.put(Site.of(e.getKey()), List.copyOf(e.getValue()));
    }
    View v = new View(List.copyOf(local), List.copyOf(remote), Collections.unmodifiableMap(bySite));
    view = v;
    listeners.fire(l -> l.onChange(service, v.bySite()));
  }

  /**
   * Chooses an instance: the next of the local site's instances, round-robin; only if the local site
   * has none, the next of the other sites' instances, round-robin.
   *
   * @return the instance, or empty if the service has no live instance anywhere
   */
  public Optional<ServiceInstance> choose() {
    View v = view;
    List<ServiceInstance> pool = v.local().isEmpty() ? v.remote() : v.local();
    int n = pool.size();
    if (n == 0) {
      return Optional.empty();
    }
    return Optional.of(pool.get((int) Math.floorMod(next.getAndIncrement(), (long) n)));
  }

  /** @return every live instance, grouped by site, the local site first, then by site name; each sorted by id */
  public Map<Site, List<ServiceInstance>> instances() {
    return view.bySite();
  }

  /** @return the service's name */
  public String service() {
    return service;
  }

  /** @return the site this resolver prefers */
  public Site localSite() {
    return localSite;
  }

  /**
   * Adds a listener told at every change of the instances (not of the current ones).
   *
   * @param listener the listener; a throwing listener is logged and ignored
   * @return this resolver
   */
  public ServiceResolver addListener(ServiceListener listener) {
    listeners.add(Checks.requireNonNull("listener", listener));
    return this;
  }

  /** @return how many times the resolver's watch saw its stream fail or end (for metrics) */
  public long watchErrors() {
    return watch.errors();
  }

  /** @return how many times the resolver's watch opened a new stream after one failed */
  public long watchReconnects() {
    return watch.reconnects();
  }

  /** @return how many keys under the service were skipped because they did not hold a registered instance */
  public long malformedEntries() {
    return malformed.get();
  }

  /** Stops following the service; {@link #choose()} keeps answering from the last view. */
  @Override
  public void close() {
    watch.close();
  }

  @Override
  public String toString() {
    View v = view;
    return "ServiceResolver[" + service + ", local " + localSite + ": " + v.local().size() + ", other sites: "
        + v.remote().size() + "]";
  }

  static String requireKeyPrefix(String keyPrefix) {
    Checks.requireNonBlank("keyPrefix", keyPrefix);
    if (keyPrefix.endsWith("/")) {
      throw Checks.invalid("keyPrefix", "must not end with '/'", "\"" + keyPrefix + "\"");
    }
    return keyPrefix;
  }

  /** Builds and starts a {@link ServiceResolver}; not thread-safe. */
  public static final class Builder {
    private final Client client;
    private final String service;
    private final Site localSite;
    private String keyPrefix = ServiceRegistry.DEFAULT_KEY_PREFIX;
    private Duration timeout = ServiceRegistry.DEFAULT_TIMEOUT;

    private Builder(Client client, String service, Site localSite) {
      this.client = Checks.requireNonNull("client", client);
      // the same rule as a registered instance's, so a resolver cannot look for a name nobody can register
      this.service = new ServiceInstance(service, Checks.requireNonNull("localSite", localSite), "x", "x", Map.of())
          .service();
      this.localSite = localSite;
    }

    /**
     * @param keyPrefix the registries' key prefix; not blank, no trailing {@code '/'}; default
     *     {@value ServiceRegistry#DEFAULT_KEY_PREFIX}
     * @return this builder
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = requireKeyPrefix(keyPrefix);
      return this;
    }

    /**
     * @param timeout the budget for the first read (and a re-read after compaction); default 5 s
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Checks.requirePositive("timeout", timeout);
      return this;
    }

    /**
     * Reads the service's instances (blocking, one round trip) and starts following them.
     *
     * @return the running resolver; close it to stop following
     * @throws io.giftkit.core.GiftkitException if etcd fails or does not answer within the timeout
     */
    public ServiceResolver start() {
      return new ServiceResolver(this);
    }
  }
}
