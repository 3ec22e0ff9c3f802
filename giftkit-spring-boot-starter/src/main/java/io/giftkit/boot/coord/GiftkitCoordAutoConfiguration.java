package io.giftkit.boot.coord;

import io.etcd.jetcd.Client;
import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.GiftkitEndpointContributor;
import io.giftkit.boot.GiftkitPropertyException;
import io.giftkit.coord.ConsistentKv;
import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.coord.ServiceInstance;
import io.giftkit.coord.ServiceRegistration;
import io.giftkit.coord.ServiceRegistry;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * giftkit-coord from {@code giftkit.coord.*}: the jetcd {@link Client} (closed with the context),
 * {@link EtcdLocks}, {@link ConsistentKv}, {@link EtcdElections}, {@link ServiceRegistry},
 * {@link GiftkitServiceResolvers}, and with {@code giftkit.coord.registration.enabled=true} this
 * application's own {@link ServiceRegistration} (deregistered on shutdown). With Actuator's health, the
 * {@code giftkitCoord} indicator; with Micrometer, the {@code giftkit.coord.*} meters; with the
 * endpoint, its {@code coord} part. Active when {@code giftkit.coord.endpoints} is set (or
 * {@code giftkit.coord.enabled=true}); {@code giftkit.coord.enabled=false} turns it off.
 */
@AutoConfiguration(after = {GiftkitAutoConfiguration.class, io.giftkit.boot.cache.GiftkitCacheAutoConfiguration.class},
    afterName = "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration")
@ConditionalOnClass({EtcdLocks.class, Client.class})
@Conditional(CoordEnabledCondition.class)
@EnableConfigurationProperties(GiftkitCoordProperties.class)
public final class GiftkitCoordAutoConfiguration {

  static final String PREFIX = CoordSettings.PREFIX;

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  Client giftkitEtcdClient(GiftkitCoordProperties p, ObjectProvider<SslBundles> bundles) {
    return CoordSettings.client(p, bundles.getIfAvailable());
  }

  @Bean
  @ConditionalOnMissingBean
  EtcdLocks giftkitEtcdLocks(Client client, GiftkitCoordProperties p) {
    try {
      return EtcdLocks.builder(client).keyPrefix(CoordSettings.namespace(p) + EtcdLocks.DEFAULT_KEY_PREFIX)
          .leaseTtl(p.getLeaseTtl()).timeout(p.getTimeout()).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  ConsistentKv giftkitConsistentKv(Client client, GiftkitCoordProperties p) {
    try {
      return ConsistentKv.builder(client).keyPrefix(CoordSettings.namespace(p)).timeout(p.getTimeout()).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  EtcdElections giftkitEtcdElections(Client client, GiftkitCoordProperties p) {
    try {
      return EtcdElections.builder(client).keyPrefix(CoordSettings.namespace(p) + EtcdElections.DEFAULT_KEY_PREFIX)
          .leaseTtl(p.getLeaseTtl()).timeout(p.getTimeout()).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  ServiceRegistry giftkitServiceRegistry(Client client, GiftkitCoordProperties p) {
    try {
      return ServiceRegistry.builder(client).keyPrefix(CoordSettings.namespace(p) + ServiceRegistry.DEFAULT_KEY_PREFIX)
          .leaseTtl(p.getLeaseTtl()).timeout(p.getTimeout()).build();
    } catch (InvalidConfigException e) {
      throw GiftkitPropertyException.of(PREFIX, e);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  GiftkitServiceResolvers giftkitServiceResolvers(Client client, ServiceRegistry registry, GiftkitCoordProperties p,
      ObjectProvider<Site> site) {
    if (p.getMaxResolvers() < 1 || p.getMaxResolvers() > 10_000) {
      throw GiftkitPropertyException.invalid(PREFIX + ".max-resolvers", "must be in [1, 10000]",
          String.valueOf(p.getMaxResolvers()));
    }
    return new GiftkitServiceResolvers(client, registry.keyPrefix(), site.getIfAvailable(), p.getTimeout(),
        p.getMaxResolvers());
  }

  /**
   * This application's instance, registered at start-up (start-up fails if etcd does not answer within
   * the timeout) and kept under a lease; re-registered after a lost lease; deregistered on shutdown.
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = PREFIX + ".registration", name = "enabled", havingValue = "true")
  ServiceRegistration giftkitServiceRegistration(ServiceRegistry registry, GiftkitCoordProperties p,
      ObjectProvider<Site> site, Environment env) {
    String at = PREFIX + ".registration";
    GiftkitCoordProperties.Registration r = p.getRegistration();
    String service = r.getServiceName() != null ? r.getServiceName() : env.getProperty("spring.application.name");
    if (service == null || service.isBlank()) {
      throw GiftkitPropertyException.invalid(at + ".service-name", "must be set (or spring.application.name)",
          CoordSettings.quoted(service));
    }
    Site local = site.getIfAvailable();
    String siteName = r.getSite() != null ? r.getSite() : local == null ? null : local.name();
    if (siteName == null) {
      throw GiftkitPropertyException.invalid(at + ".site", "must be set (or giftkit.site)", "none");
    }
    if (r.getAddress() == null || r.getAddress().isBlank()) {
      throw GiftkitPropertyException.invalid(at + ".address", "must be set (host:port others reach this instance at)",
          CoordSettings.quoted(r.getAddress()));
    }
    String id = r.getInstanceId() != null ? r.getInstanceId() : r.getAddress();
    ServiceInstance instance;
    try {
      instance = ServiceInstance.of(service, siteName, id, r.getAddress(), r.getMetadata());
    } catch (InvalidConfigException e) {
      String param = switch (e.parameter()) {
        case "service" -> "service-name";
        case "instanceId" -> "instance-id";
        default -> e.parameter();
      };
      throw GiftkitPropertyException.invalid(at + "." + param, e.rule(), e.value());
    }
    return registry.register(instance);
  }

  @Bean
  GiftkitEndpointContributor giftkitCoordEndpointContributor(GiftkitCoordProperties p, EtcdLocks locks,
      EtcdElections elections, ObjectProvider<ServiceRegistration> registration, GiftkitServiceResolvers resolvers) {
    return new CoordEndpointPart(p.getEndpoints(), locks, elections, registration, resolvers);
  }

  /** Health of the etcd cluster, when Actuator's health is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(org.springframework.boot.health.contributor.HealthIndicator.class)
  static class CoordHealthConfiguration {

    /**
     * {@code /actuator/health/giftkitCoord}: UP when a member answers and knows a leader; DOWN naming
     * the endpoints that did not answer otherwise. Details: endpoint count, each member's state, held
     * locks and leaderships, the own registration. Never the credentials.
     */
    @Bean
    @ConditionalOnMissingBean(name = "giftkitCoordHealthIndicator")
    org.springframework.boot.health.contributor.HealthIndicator giftkitCoordHealthIndicator(Client client,
        GiftkitCoordProperties p, EtcdLocks locks, EtcdElections elections,
        ObjectProvider<ServiceRegistration> registration) {
      return new CoordHealthIndicator(client, CoordSettings.endpoints(p), p.getTimeout(), locks, elections,
          registration);
    }
  }

  /** Metrics, when Micrometer is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class CoordMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GiftkitCoordMetrics giftkitCoordMetrics(EtcdLocks locks, EtcdElections elections, ConsistentKv kv,
        GiftkitServiceResolvers resolvers, ObjectProvider<ServiceRegistration> registration) {
      return new GiftkitCoordMetrics(locks, elections, kv, resolvers, registration);
    }
  }

  /**
   * The key-value tier under the tiered caches, when giftkit-cache's {@link io.giftkit.boot.cache.GiftkitCaches}
   * is there: {@link GiftkitKvTier}, with a cache for each {@code giftkit.coord.kv-caches.<name>}.
   */
  @Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnBean(io.giftkit.boot.cache.GiftkitCaches.class)
  static class KvTierConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    GiftkitKvTier giftkitKvTier(ConsistentKv kv, io.giftkit.boot.cache.GiftkitCaches caches, GiftkitCoordProperties p) {
      GiftkitKvTier tier = new GiftkitKvTier(kv);
      p.getKvCaches().forEach((name, c) -> {
        String at = PREFIX + ".kv-caches." + name;
        String keyPrefix = c.getKeyPrefix() == null ? name + "/" : c.getKeyPrefix();
        if (keyPrefix.isBlank()) {
          throw GiftkitPropertyException.invalid(at + ".key-prefix", "must not be blank", CoordSettings.quoted(keyPrefix));
        }
        if (c.getConsistency() == null) {
          throw GiftkitPropertyException.invalid(at + ".consistency", "must be linearizable or serializable", "null");
        }
        tier.create(caches, name, keyPrefix, c.getConsistency(), c.isInvalidateOnChange());
      });
      return tier;
    }
  }
}
