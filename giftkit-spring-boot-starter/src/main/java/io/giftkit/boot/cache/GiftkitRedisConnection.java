package io.giftkit.boot.cache;

import io.giftkit.core.Checks;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How GiftKit's caches reach Redis (a bean; {@link GiftkitCaches} makes its Lettuce client from it):
 * one server or a Sentinel-watched master ({@link #of}: a {@link RedisClient}), or a Redis Cluster
 * ({@link #cluster}: a {@link RedisClusterClient}), with the client options (SSL, connect timeout,
 * cluster topology refresh). With Spring Boot's Redis support on the classpath
 * ({@code spring-boot-data-redis}) it is built from Boot's own {@code DataRedisConnectionDetails}
 * and {@code spring.data.redis.*} (standalone, Sentinel, Cluster, username, password, SSL and SSL
 * bundles, timeouts, client name); without it from {@code spring.data.redis.url} or host, port,
 * username, password, database and {@code ssl.enabled}. {@code giftkit.cache.redis-url}, when set,
 * replaces both.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows a password.
 */
public final class GiftkitRedisConnection {

  private final List<RedisURI> uris;
  private final boolean cluster;
  private final ClientOptions options;

  private GiftkitRedisConnection(List<RedisURI> uris, boolean cluster, ClientOptions options) {
    this.uris = List.copyOf(uris);
    this.cluster = cluster;
    this.options = options;
  }

  /**
   * @param uri one server, or a Sentinel-watched master ({@code RedisURI.Builder.sentinel(...)})
   * @param options the client's options; null for Lettuce's defaults
   * @return a connection through a {@link RedisClient}
   */
  public static GiftkitRedisConnection of(RedisURI uri, ClientOptions options) {
    return new GiftkitRedisConnection(List.of(Checks.requireNonNull("uri", uri)), false, options);
  }

  /**
   * @param nodes the cluster's seed nodes; not empty
   * @param options the client's options; null for Lettuce's defaults
   * @return a connection through a {@link RedisClusterClient}
   */
  public static GiftkitRedisConnection cluster(List<RedisURI> nodes, ClusterClientOptions options) {
    Checks.requireNonNull("nodes", nodes);
    if (nodes.isEmpty()) {
      throw Checks.invalid("nodes", "must name at least one cluster node", nodes);
    }
    return new GiftkitRedisConnection(nodes, true, options);
  }

  /** @return whether this is a Redis Cluster */
  public boolean isCluster() {
    return cluster;
  }

  /** @return the server's URI (one), or the cluster's seed nodes */
  public List<RedisURI> uris() {
    return uris;
  }

  /** @return the client options, or null for Lettuce's defaults */
  public ClientOptions options() {
    return options;
  }

  /**
   * Makes a new Lettuce client (it connects only when a connection is opened); the caller shuts it down.
   *
   * @return a {@link RedisClusterClient} for a cluster, else a {@link RedisClient}
   */
  public AbstractRedisClient createClient() {
    if (cluster) {
      RedisClusterClient client = RedisClusterClient.create(uris);
      if (options != null) {
        client.setOptions((ClusterClientOptions) options);
      }
      return client;
    }
    RedisClient client = RedisClient.create(uris.get(0));
    if (options != null) {
      client.setOptions(options);
    }
    return client;
  }

  /** Hosts, ports, database, SSL; never a password (Lettuce's {@code RedisURI.toString} leaves it out). */
  @Override
  public String toString() {
    return "GiftkitRedisConnection{" + (cluster ? "cluster=" : "uri=")
        + uris.stream().map(RedisURI::toString).collect(Collectors.joining(",")) + "}";
  }
}
