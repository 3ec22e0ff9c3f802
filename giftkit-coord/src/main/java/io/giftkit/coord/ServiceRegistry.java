package io.giftkit.coord;

import io.etcd.jetcd.Client;
import io.giftkit.core.Checks;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Registers service instances in etcd, each under a lease this process keeps alive, for
 * {@link ServiceResolver}s to find:
 *
 * <pre>{@code
 * ServiceRegistry registry = ServiceRegistry.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
 * ServiceRegistration me = registry.register(
 *     ServiceInstance.of("gift-api", "a", "10.0.0.7:8080", "10.0.0.7:8080", Map.of("version", "1.4")));
 * ...
 * me.close();   // deregisters at once; a process that dies instead vanishes when its lease ends
 * }</pre>
 *
 * <p>The key is {@code <keyPrefix>/services/<service>/<site>/<instanceId>}; the value holds the address
 * and metadata in a small escaped text format. A registration with the same service, site and id
 * replaces the earlier one. <b>Failover time:</b> a crashed instance's key is deleted by etcd at most
 * {@code leaseTtl} after its last renewal, and resolvers drop it as soon as they see the delete, so
 * clients stop choosing it within about {@code leaseTtl} (default 10 s). A lower TTL fails over faster
 * and costs a renewal every third of it per instance.
 *
 * <p>Thread-safe. {@link #register} blocks for two round trips; one daemon thread renews the leases.
 * {@link #close()} deregisters what is still registered and stops that thread; the {@link Client}
 * stays the caller's.
 */
public final class ServiceRegistry implements AutoCloseable {

  /** Default key prefix: {@value}. */
  public static final String DEFAULT_KEY_PREFIX = "giftkit";
  /** Default lease TTL: 10 s. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(10);
  /** Default budget for one registration or deregistration: 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Client client;
  private final String keyPrefix;
  private final Duration leaseTtl;
  private final Duration timeout;
  private final Ticker ticker;
  private final ScheduledExecutorService scheduler;
  private final Set<ServiceRegistration> registrations = ConcurrentHashMap.newKeySet();

  private ServiceRegistry(Builder b) {
    this.client = b.client;
    this.keyPrefix = b.keyPrefix;
    this.leaseTtl = b.leaseTtl;
    this.timeout = b.timeout;
    this.ticker = b.ticker;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-etcd-registry");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * @param client the jetcd client; the caller keeps owning it
   * @return a builder with the defaults
   */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /**
   * Registers an instance: grants a lease and writes the instance's key under it.
   *
   * @param instance the instance; not null
   * @return the registration; close it to deregister
   * @throws io.giftkit.core.InvalidConfigException if {@code instance} is null
   * @throws io.giftkit.core.GiftkitException if etcd fails or does not answer within the timeout
   */
  public ServiceRegistration register(ServiceInstance instance) {
    Checks.requireNonNull("instance", instance);
    String key = InstanceCodec.key(keyPrefix, instance);
    ServiceRegistration registration = new ServiceRegistration(instance, key, client, leaseTtl, timeout, ticker,
        scheduler, registrations::remove);
    // the future has its own timeout (orTimeout); the extra second only covers the hand-over
    Etcd.await(registration.register(), timeout.plusSeconds(1), "registering service instance " + key);
    registrations.add(registration);
    return registration;
  }

  /**
   * The instances registered through this registry and not yet deregistered (a snapshot; for the
   * Actuator endpoint).
   *
   * @return the live registrations
   */
  public List<ServiceRegistration> registrations() {
    return List.copyOf(registrations);
  }

  /** @return the key prefix, without a trailing {@code '/'} */
  public String keyPrefix() {
    return keyPrefix;
  }

  /** Deregisters every instance still registered through this registry and stops renewing leases. */
  @Override
  public void close() {
    for (ServiceRegistration r : registrations) {
      r.close();
    }
    registrations.clear();
    scheduler.shutdownNow();
  }

  /** Builds a {@link ServiceRegistry}; not thread-safe. */
  public static final class Builder {
    private final Client client;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Ticker ticker = Ticker.system();

    private Builder(Client client) {
      this.client = Checks.requireNonNull("client", client);
    }

    /**
     * @param keyPrefix the first part of every key, e.g. {@code "giftkit"} or {@code "prod/giftkit"};
     *     not blank, no trailing {@code '/'}; default {@value #DEFAULT_KEY_PREFIX}
     * @return this builder
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = ServiceResolver.requireKeyPrefix(keyPrefix);
      return this;
    }

    /**
     * @param leaseTtl how long an instance stays registered without renewal (the failover time):
     *     whole seconds, at least 2 s; default 10 s. Renewed every third of it.
     * @return this builder
     */
    public Builder leaseTtl(Duration leaseTtl) {
      this.leaseTtl = Leases.requireTtl("leaseTtl", leaseTtl);
      return this;
    }

    /**
     * @param timeout the budget for one registration (grant and put) or deregistration; default 5 s
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Checks.requirePositive("timeout", timeout);
      return this;
    }

    /**
     * @param ticker the clock that times leases; default {@link Ticker#system()}
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /** @return the registry */
    public ServiceRegistry build() {
      return new ServiceRegistry(this);
    }
  }
}
