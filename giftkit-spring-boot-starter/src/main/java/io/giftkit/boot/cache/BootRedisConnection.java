package io.giftkit.boot.cache;

import io.giftkit.boot.GiftkitPropertyException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails;
import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.boot.ssl.SslBundle;

/**
 * {@link GiftkitRedisConnection} from Spring Boot's Redis support; referenced only when
 * {@code spring-boot-data-redis} is on the classpath. Reads the connection details and properties
 * the way Boot's {@code LettuceConnectionConfiguration} does for its own connection factory:
 * Sentinel if the details name one, else Cluster, else standalone (a static master/replica setup is
 * refused: GiftKit's caches need one writable endpoint); the username and password (an ACL user)
 * on every data node, the Sentinel's own on the sentinels; SSL when {@code ssl.enabled}, a
 * {@code rediss://} URL or an SSL bundle, with the bundle's key and trust managers, ciphers and
 * protocols as Lettuce {@link SslOptions}; {@code timeout}, {@code connect-timeout},
 * {@code client-name}, {@code cluster.max-redirects} and {@code lettuce.cluster.refresh.*}.
 */
final class BootRedisConnection {

  private BootRedisConnection() {}

  static GiftkitRedisConnection of(DataRedisProperties properties, DataRedisConnectionDetails details) {
    SslBundle bundle = details.getSslBundle();
    boolean ssl = properties.getSsl().isEnabled() || bundle != null
        || (properties.getUrl() != null && properties.getUrl().startsWith("rediss://"));
    SslOptions sslOptions = ssl && bundle != null ? sslOptions(bundle) : null;
    SocketOptions socket = properties.getConnectTimeout() == null ? null
        : SocketOptions.builder().connectTimeout(properties.getConnectTimeout()).build();

    DataRedisConnectionDetails.Sentinel sentinel = details.getSentinel();
    if (sentinel != null) {
      RedisURI.Builder b = RedisURI.builder().withSentinelMasterId(sentinel.getMaster())
          .withDatabase(sentinel.getDatabase());
      for (DataRedisConnectionDetails.Node n : sentinel.getNodes()) {
        RedisURI.Builder s = RedisURI.builder().withHost(n.host()).withPort(n.port()).withSsl(ssl);
        authenticate(s, sentinel.getUsername(), sentinel.getPassword());
        b.withSentinel(s.build());
      }
      return GiftkitRedisConnection.of(common(b, details, properties, ssl).build(), clientOptions(socket, sslOptions));
    }
    DataRedisConnectionDetails.Cluster cluster = details.getCluster();
    if (cluster != null) {
      List<RedisURI> nodes = new ArrayList<>();
      for (DataRedisConnectionDetails.Node n : cluster.getNodes()) {
        nodes.add(common(RedisURI.builder().withHost(n.host()).withPort(n.port()), details, properties, ssl).build());
      }
      ClusterClientOptions.Builder o = ClusterClientOptions.builder();
      if (socket != null) {
        o.socketOptions(socket);
      }
      if (sslOptions != null) {
        o.sslOptions(sslOptions);
      }
      if (properties.getCluster().getMaxRedirects() != null) {
        o.maxRedirects(properties.getCluster().getMaxRedirects());
      }
      o.topologyRefreshOptions(refresh(properties.getLettuce().getCluster().getRefresh()));
      return GiftkitRedisConnection.cluster(nodes, o.build());
    }
    if (details.getMasterReplica() != null) {
      throw GiftkitPropertyException.invalid("spring.data.redis.masterreplica.nodes",
          "is not supported by GiftKit's caches (they need one writable endpoint); set giftkit.cache.redis-url",
          String.valueOf(details.getMasterReplica().getNodes()));
    }
    DataRedisConnectionDetails.Standalone standalone = details.getStandalone();
    RedisURI.Builder b = RedisURI.builder().withHost(standalone.getHost()).withPort(standalone.getPort())
        .withDatabase(standalone.getDatabase());
    return GiftkitRedisConnection.of(common(b, details, properties, ssl).build(), clientOptions(socket, sslOptions));
  }

  /** Credentials, SSL, command timeout and client name of a data node. */
  private static RedisURI.Builder common(RedisURI.Builder b, DataRedisConnectionDetails details,
      DataRedisProperties properties, boolean ssl) {
    authenticate(b, details.getUsername(), details.getPassword());
    b.withSsl(ssl);
    if (properties.getTimeout() != null) {
      b.withTimeout(properties.getTimeout());
    }
    if (properties.getClientName() != null && !properties.getClientName().isBlank()) {
      b.withClientName(properties.getClientName());
    }
    return b;
  }

  private static void authenticate(RedisURI.Builder b, String username, String password) {
    if (password == null) {
      return;
    }
    if (username != null && !username.isEmpty()) {
      b.withAuthentication(username, password.toCharArray());
    } else {
      b.withPassword(password.toCharArray());
    }
  }

  private static ClientOptions clientOptions(SocketOptions socket, SslOptions ssl) {
    if (socket == null && ssl == null) {
      return null;
    }
    ClientOptions.Builder o = ClientOptions.builder();
    if (socket != null) {
      o.socketOptions(socket);
    }
    if (ssl != null) {
      o.sslOptions(ssl);
    }
    return o.build();
  }

  private static SslOptions sslOptions(SslBundle bundle) {
    SslOptions.Builder o = SslOptions.builder().keyManager(bundle.getManagers().getKeyManagerFactory())
        .trustManager(bundle.getManagers().getTrustManagerFactory());
    if (bundle.getOptions().getCiphers() != null) {
      o.cipherSuites(bundle.getOptions().getCiphers());
    }
    if (bundle.getOptions().getEnabledProtocols() != null) {
      o.protocols(bundle.getOptions().getEnabledProtocols());
    }
    return o.build();
  }

  private static ClusterTopologyRefreshOptions refresh(DataRedisProperties.Lettuce.Cluster.Refresh refresh) {
    ClusterTopologyRefreshOptions.Builder r = ClusterTopologyRefreshOptions.builder()
        .dynamicRefreshSources(refresh.isDynamicRefreshSources());
    Duration period = refresh.getPeriod();
    if (period != null) {
      r.enablePeriodicRefresh(period);
    }
    if (refresh.isAdaptive()) {
      r.enableAllAdaptiveRefreshTriggers();
    }
    return r.build();
  }
}
