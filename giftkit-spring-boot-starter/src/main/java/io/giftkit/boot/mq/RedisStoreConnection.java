package io.giftkit.boot.mq;

import io.giftkit.boot.cache.GiftkitRedisConnection;
import io.giftkit.mq.RedisIdempotencyStore;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Duration;
import org.springframework.beans.factory.DisposableBean;

/**
 * The {@link RedisIdempotencyStore} bean's own Lettuce client and connection, made from the
 * {@link GiftkitRedisConnection} (the caches' Redis settings: one server, Sentinel or Cluster),
 * opened when the store is first asked for and closed with the context. Thread-safe.
 */
final class RedisStoreConnection implements DisposableBean {

  private final AbstractRedisClient client;
  private final StatefulConnection<String, String> connection;

  /**
   * Opens the connection.
   *
   * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached (nothing is left open)
   */
  RedisStoreConnection(GiftkitRedisConnection settings) {
    this.client = settings.createClient();
    try {
      this.connection = client instanceof RedisClusterClient cluster ? cluster.connect() : ((RedisClient) client).connect();
    } catch (RuntimeException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      throw e;
    }
  }

  /** @return a store with {@link RedisIdempotencyStore}'s defaults on this connection */
  RedisIdempotencyStore store() {
    if (connection instanceof StatefulRedisClusterConnection<String, String> cluster) {
      return RedisIdempotencyStore.create(cluster, "giftkit:idem:", RedisIdempotencyStore.DEFAULT_LEASE,
          RedisIdempotencyStore.DEFAULT_DONE_TTL, RedisIdempotencyStore.DEFAULT_TIMEOUT);
    }
    return RedisIdempotencyStore.create((StatefulRedisConnection<String, String>) connection);
  }

  @Override
  public void destroy() {
    try {
      connection.close();
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
