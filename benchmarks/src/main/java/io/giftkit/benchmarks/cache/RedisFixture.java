package io.giftkit.benchmarks.cache;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Duration;

/** The Redis server the cache benchmarks use: GIFTKIT_REDIS_URL, else 127.0.0.1:6379 (scripts/bench starts it). */
final class RedisFixture {

  private RedisFixture() {}

  static RedisClient client() {
    String url = System.getenv().getOrDefault("GIFTKIT_REDIS_URL", "redis://127.0.0.1:6379");
    RedisURI uri = RedisURI.create(url);
    uri.setTimeout(Duration.ofSeconds(2));
    return RedisClient.create(uri);
  }
}
