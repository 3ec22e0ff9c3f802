package io.giftkit.boot.coord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code giftkit.coord.*}: the etcd cluster behind giftkit-coord's locks, key-value tier, elections and
 * service discovery, and this application's own registration. {@link #toString()} masks the password.
 */
@ConfigurationProperties("giftkit.coord")
public class GiftkitCoordProperties {

  /**
   * Whether to connect to etcd and define the coordination beans. Unset: on exactly when
   * {@code endpoints} is set. {@code true} without endpoints fails start-up.
   */
  private Boolean enabled;

  /** The etcd members' client URLs, e.g. {@code http://etcd-1:2379}; {@code https://} needs {@code ssl.bundle}. */
  private List<String> endpoints = new ArrayList<>();

  /** etcd user (etcd's auth); with {@code password}. */
  private String username;

  /** etcd user's password; never logged, masked in {@code toString()} and the endpoint. */
  private String password;

  /** TLS towards etcd. */
  private final Ssl ssl = new Ssl();

  /**
   * TTL of the leases behind locks, leaderships and registrations: whole seconds, at least 2 s. A
   * crashed holder's lock, a dead leader's leadership and a dead instance's registration last this long.
   */
  private Duration leaseTtl = Duration.ofSeconds(10);

  /** Budget of one etcd round trip (grant, read, write, release); positive. */
  private Duration timeout = Duration.ofSeconds(5);

  /**
   * Put before every key this application writes or reads (locks, key-value tier, elections,
   * discovery), e.g. {@code gift-prod/}, so several applications share one etcd; empty (the default) or
   * ending with '/'.
   */
  private String namespace = "";

  /** Most service names {@code GiftkitServiceResolvers} follows at once (each holds a watch). */
  private int maxResolvers = 64;

  /** This application's own registration in the service discovery. */
  private final Registration registration = new Registration();

  /**
   * Tiered caches over the etcd key-value tier, by cache name: each a {@code TieredCache<String, String>}
   * (L1 and Redis from {@code giftkit.cache.caches.<name>.*}) whose loader reads etcd; see
   * {@link GiftkitKvTier}.
   */
  private Map<String, KvCache> kvCaches = new LinkedHashMap<>();

  /** One cache over the key-value tier. */
  public static class KvCache {

    /** Where its keys live in etcd, below {@code namespace}: key {@code k} is {@code <key-prefix>k}; default {@code <name>/}. */
    private String keyPrefix;

    /** How the loader reads etcd: {@code linearizable} (sees every write made before) or {@code serializable} (one member's copy). */
    private io.giftkit.coord.Consistency consistency = io.giftkit.coord.Consistency.LINEARIZABLE;

    /** Whether to watch the keys and invalidate a cached key when it changes in etcd. */
    private boolean invalidateOnChange = true;

    public String getKeyPrefix() {
      return keyPrefix;
    }

    public void setKeyPrefix(String keyPrefix) {
      this.keyPrefix = keyPrefix;
    }

    public io.giftkit.coord.Consistency getConsistency() {
      return consistency;
    }

    public void setConsistency(io.giftkit.coord.Consistency consistency) {
      this.consistency = consistency;
    }

    public boolean isInvalidateOnChange() {
      return invalidateOnChange;
    }

    public void setInvalidateOnChange(boolean invalidateOnChange) {
      this.invalidateOnChange = invalidateOnChange;
    }
  }

  /** TLS settings. */
  public static class Ssl {

    /**
     * Name of a Spring Boot SSL bundle ({@code spring.ssl.bundle.*}) whose trust material (and key
     * material, for etcd's client-certificate authentication) the etcd client uses. Needed for
     * {@code https://} endpoints.
     */
    private String bundle;

    public String getBundle() {
      return bundle;
    }

    public void setBundle(String bundle) {
      this.bundle = bundle;
    }
  }

  /** The application's own service instance, registered under a lease while it runs. */
  public static class Registration {

    /** Whether to register this application in the service discovery at start-up (deregistered on shutdown). */
    private boolean enabled = false;

    /** The service's name; defaults to {@code spring.application.name}. */
    private String serviceName;

    /** The site this instance runs in; defaults to {@code giftkit.site}. */
    private String site;

    /** Where other instances reach this one, e.g. {@code 10.0.0.7:8080}; required. */
    private String address;

    /** The instance's id, unique within the service and site; defaults to {@code address}. */
    private String instanceId;

    /** Free-form metadata other instances see (version, zone, weight …). */
    private Map<String, String> metadata = new LinkedHashMap<>();

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getServiceName() {
      return serviceName;
    }

    public void setServiceName(String serviceName) {
      this.serviceName = serviceName;
    }

    public String getSite() {
      return site;
    }

    public void setSite(String site) {
      this.site = site;
    }

    public String getAddress() {
      return address;
    }

    public void setAddress(String address) {
      this.address = address;
    }

    public String getInstanceId() {
      return instanceId;
    }

    public void setInstanceId(String instanceId) {
      this.instanceId = instanceId;
    }

    public Map<String, String> getMetadata() {
      return metadata;
    }

    public void setMetadata(Map<String, String> metadata) {
      this.metadata = metadata;
    }
  }

  public Boolean getEnabled() {
    return enabled;
  }

  public void setEnabled(Boolean enabled) {
    this.enabled = enabled;
  }

  public List<String> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<String> endpoints) {
    this.endpoints = endpoints;
  }

  public String getUsername() {
    return username;
  }

  public void setUsername(String username) {
    this.username = username;
  }

  public String getPassword() {
    return password;
  }

  public void setPassword(String password) {
    this.password = password;
  }

  public Ssl getSsl() {
    return ssl;
  }

  public Duration getLeaseTtl() {
    return leaseTtl;
  }

  public void setLeaseTtl(Duration leaseTtl) {
    this.leaseTtl = leaseTtl;
  }

  public Duration getTimeout() {
    return timeout;
  }

  public void setTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public int getMaxResolvers() {
    return maxResolvers;
  }

  public void setMaxResolvers(int maxResolvers) {
    this.maxResolvers = maxResolvers;
  }

  public Registration getRegistration() {
    return registration;
  }

  public Map<String, KvCache> getKvCaches() {
    return kvCaches;
  }

  public void setKvCaches(Map<String, KvCache> kvCaches) {
    this.kvCaches = kvCaches;
  }

  /** @return the settings, the password masked */
  @Override
  public String toString() {
    return "GiftkitCoordProperties[endpoints=" + endpoints + ", username=" + username + ", password="
        + (password == null ? "null" : "******") + ", ssl.bundle=" + ssl.bundle + ", leaseTtl=" + leaseTtl
        + ", timeout=" + timeout + ", namespace=" + namespace + "]";
  }
}
