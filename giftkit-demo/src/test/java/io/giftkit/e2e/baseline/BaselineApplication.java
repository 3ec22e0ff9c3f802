package io.giftkit.e2e.baseline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The bare baseline application (see the package documentation). Configured through the same
 * environment variables as the demo's real profile: {@code GIFTKIT_SHARD_<n>_URL},
 * {@code GIFTKIT_CONTROL_URL}, {@code GIFTKIT_PAYMENT_URL}, {@code GIFTKIT_DB_USER},
 * {@code GIFTKIT_DB_PASSWORD}, {@code GIFTKIT_REDIS_URL}, {@code KAFKA_BOOTSTRAP}; its topic is
 * {@code BASELINE_TOPIC} (default {@code baseline-gift-events}).
 */
@SpringBootApplication(excludeName = {"io.giftkit.boot.GiftkitAutoConfiguration",
    "io.giftkit.boot.breaker.GiftkitBreakerAutoConfiguration", "io.giftkit.boot.shard.GiftkitShardAutoConfiguration",
    "io.giftkit.boot.cache.GiftkitCacheAutoConfiguration", "io.giftkit.boot.mq.GiftkitMqAutoConfiguration",
    "io.giftkit.boot.GiftkitEndpointAutoConfiguration"})
public class BaselineApplication {

  static final int SHARDS = 10;

  public static void main(String[] args) {
    // the demo's application.yml is on the same classpath: its readiness group names GiftKit's consumers
    String[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = "--management.endpoint.health.group.readiness.include=readinessState";
    SpringApplication.run(BaselineApplication.class, all);
  }

  /** A setting by its environment variable's name (Spring's environment: variables, arguments, test properties). */
  static String env(Environment env, String name, String otherwise) {
    String v = env.getProperty(name);
    return v == null || v.isBlank() ? otherwise : v;
  }

  static String required(Environment env, String name) {
    String v = env(env, name, null);
    if (v == null) {
      throw new IllegalStateException("the baseline needs " + name + " (a JDBC URL), but it is not set");
    }
    return v;
  }

  private final Environment env;

  public BaselineApplication(Environment env) {
    this.env = env;
  }

  HikariDataSource pool(String name, String url, int max) {
    HikariConfig c = new HikariConfig();
    c.setPoolName(name);
    c.setJdbcUrl(url);
    c.setUsername(env(env, "GIFTKIT_DB_USER", "root"));
    c.setPassword(env(env, "GIFTKIT_DB_PASSWORD", ""));
    c.setMaximumPoolSize(max); // the demo's shard pools: 10, minimum idle 2 (BASELINE_MIN_IDLE)
    c.setMinimumIdle(Math.min(max, Integer.parseInt(env(env, "BASELINE_MIN_IDLE", "2"))));
    c.setConnectionTimeout(1_000);
    return new HikariDataSource(c);
  }

  /** The ten shard pools, routed by {@code uid % 10}. */
  record Shards(List<HikariDataSource> pools) implements AutoCloseable {
    DataSource of(long uid) {
      return pools.get((int) (uid % SHARDS));
    }

    @Override
    public void close() {
      pools.forEach(HikariDataSource::close);
    }
  }

  @Bean(destroyMethod = "close")
  Shards shards() {
    List<HikariDataSource> pools = new ArrayList<>();
    for (int s = 0; s < SHARDS; s++) {
      pools.add(pool("shard-" + s, required(env, "GIFTKIT_SHARD_" + s + "_URL"), 10));
    }
    return new Shards(pools);
  }

  /** The control database (ledger, income, rankings). */
  record Control(HikariDataSource ds) implements AutoCloseable {
    @Override
    public void close() {
      ds.close();
    }
  }

  @Bean(destroyMethod = "close")
  Control control() {
    return new Control(pool("control", required(env, "GIFTKIT_CONTROL_URL"), 10));
  }

  /** The simulated payment provider's database. */
  record Payments(HikariDataSource ds) implements AutoCloseable {
    @Override
    public void close() {
      ds.close();
    }
  }

  @Bean(destroyMethod = "close")
  Payments payments() {
    return new Payments(pool("payment-provider", required(env, "GIFTKIT_PAYMENT_URL"), 16));
  }

  @Bean(destroyMethod = "shutdown")
  RedisClient redisClient() {
    return RedisClient.create(env(env, "GIFTKIT_REDIS_URL", "redis://127.0.0.1:6379"));
  }

  @Bean(destroyMethod = "close")
  StatefulRedisConnection<String, String> redis(RedisClient client) {
    StatefulRedisConnection<String, String> c = client.connect();
    c.setTimeout(Duration.ofSeconds(1));
    return c;
  }

  /** The rooms' in-process copies (the demo's l1-ttl, 5 s), in front of Redis (l2-ttl, 1 min). */
  @Bean
  Cache<Long, io.giftkit.demo.rooms.RoomInfo> roomMemory() {
    return Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofSeconds(5)).build();
  }
}
