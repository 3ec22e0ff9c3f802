package io.giftkit.demo.chaos;

import io.giftkit.testing.process.KafkaProcess;
import io.giftkit.testing.process.MariaDbProcess;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisProcess;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a chaos run starts, each as its own OS process on free loopback ports with its data
 * under the run directory: a Kafka broker, a MariaDB server holding shard 9, a Redis server and two
 * application instances. Shards 0–8, the control database and the payment database live on the
 * shared MariaDB at 127.0.0.1:3306 in databases named after the seed, dropped first.
 * {@link #close()} kills every process (also done by the registry's shutdown hook).
 */
final class ChaosCluster implements AutoCloseable {

  static final String SHARED_URL = "jdbc:mariadb://127.0.0.1:3306/";
  static final int SHARDS = 10;
  static final int DOWN_SHARD = 9;
  static final List<String> TOPICS = List.of("gift-events", "b.gift-events", "gift-events.DLT");
  private static final Duration SERVER_TIMEOUT = Duration.ofSeconds(90);

  final ProcessRegistry registry = new ProcessRegistry();
  final String prefix;
  final KafkaProcess kafka;
  final MariaDbProcess shard9;
  final RedisProcess redis;
  final List<AppInstance> apps = new ArrayList<>();

  private ChaosCluster(ChaosOptions options, String java, String classpath, Log log) throws Exception {
    Path dir = options.runDir();
    prefix = options.databasePrefix();
    try {
      resetSharedDatabases();
      log.line("shared MariaDB: databases %s_shard_0..8, %s_control, %s_payments (re)created", prefix, prefix, prefix);
      kafka = new KafkaProcess(registry, dir.resolve("kafka"), java, classpath, 3);
      shard9 = new MariaDbProcess(registry, dir.resolve("mariadb-shard9"));
      redis = new RedisProcess(registry, dir.resolve("redis"));
      long t0 = System.nanoTime();
      kafka.start(SERVER_TIMEOUT);
      kafka.createTopics(TOPICS, 3);
      log.line("kafka ready at %s (pid %d) in %d ms", kafka.bootstrapServers(), kafka.process().pid(), ms(t0));
      t0 = System.nanoTime();
      shard9.start(SERVER_TIMEOUT);
      log.line("shard 9 MariaDB ready on 127.0.0.1:%d (pid %d) in %d ms", shard9.port(), shard9.process().pid(), ms(t0));
      t0 = System.nanoTime();
      redis.start(SERVER_TIMEOUT);
      log.line("redis ready at %s (pid %d) in %d ms", redis.url(), redis.process().pid(), ms(t0));
      Map<String, String> env = appEnvironment();
      for (int i = 0; i < 2; i++) {
        apps.add(new AppInstance(registry, i, java, classpath, env, dir));
      }
      t0 = System.nanoTime();
      apps.forEach(AppInstance::start);
      for (AppInstance a : apps) {
        a.awaitReady();
        log.line("%s ready at %s (pid %d) after %d ms", a.name(), a.base(), a.process().pid(), ms(t0));
      }
    } catch (Exception | Error e) {
      registry.close();
      throw e;
    }
  }

  static ChaosCluster start(ChaosOptions options, String java, String classpath, Log log) throws Exception {
    return new ChaosCluster(options, java, classpath, log);
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  String shardDatabase(int shard) {
    return prefix + "_shard_" + shard;
  }

  String controlDatabase() {
    return prefix + "_control";
  }

  String paymentDatabase() {
    return prefix + "_payments";
  }

  /** @return the JDBC URL of a shard's database (shard 9 on the run's own server) */
  String shardUrl(int shard) {
    return (shard == DOWN_SHARD ? shard9.jdbcUrl("") : SHARED_URL) + shardDatabase(shard);
  }

  private Map<String, String> appEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (int s = 0; s < SHARDS; s++) {
      env.put("GIFTKIT_SHARD_" + s + "_URL", shardUrl(s) + "?createDatabaseIfNotExist=true");
    }
    env.put("GIFTKIT_CONTROL_URL", SHARED_URL + controlDatabase() + "?createDatabaseIfNotExist=true");
    env.put("GIFTKIT_PAYMENT_URL", SHARED_URL + paymentDatabase() + "?createDatabaseIfNotExist=true");
    env.put("GIFTKIT_DB_USER", "root");
    env.put("GIFTKIT_DB_PASSWORD", "");
    env.put("GIFTKIT_REDIS_URL", redis.url());
    env.put("KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.put("GIFTKIT_ETCD_ENDPOINTS", ""); // the money path's run needs no etcd: in-process jobs, static payment list
    env.put("GIFTKIT_SITE", "a");
    env.put("GIFTKIT_OTHER_SITE", "b");
    return env;
  }

  private void resetSharedDatabases() throws SQLException {
    try (Connection c = DriverManager.getConnection(SHARED_URL + "?connectTimeout=5000", "root", "");
        Statement st = c.createStatement()) {
      for (int s = 0; s < SHARDS; s++) {
        st.execute("DROP DATABASE IF EXISTS `" + shardDatabase(s) + "`");
      }
      st.execute("DROP DATABASE IF EXISTS `" + controlDatabase() + "`");
      st.execute("DROP DATABASE IF EXISTS `" + paymentDatabase() + "`");
      for (int s = 0; s < SHARDS; s++) {
        if (s != DOWN_SHARD) {
          st.execute("CREATE DATABASE `" + shardDatabase(s) + "`");
        }
      }
      st.execute("CREATE DATABASE `" + controlDatabase() + "`");
      st.execute("CREATE DATABASE `" + paymentDatabase() + "`");
    }
  }

  /** Opens a connection to a database of the run (shard 9 on its own server). */
  Connection connect(String database) throws SQLException {
    String base = database.equals(shardDatabase(DOWN_SHARD)) ? shard9.jdbcUrl("") : SHARED_URL;
    return DriverManager.getConnection(base + database + "?connectTimeout=5000&socketTimeout=30000", "root", "");
  }

  /** Brings back anything a fault left down (a failed restart, a stopped Redis). */
  void ensureAllUp(Log log) throws Exception {
    if (redis.process().isSuspended()) {
      redis.process().resume();
    }
    if (!redis.process().isAlive()) {
      log.line("redis was down at the end: restarting it");
      redis.start(SERVER_TIMEOUT);
    }
    if (!kafka.process().isAlive()) {
      log.line("kafka was down at the end: restarting it");
      kafka.start(SERVER_TIMEOUT);
    }
    if (!shard9.process().isAlive()) {
      log.line("shard 9 MariaDB was down at the end: restarting it");
      shard9.start(SERVER_TIMEOUT);
    }
    for (AppInstance a : apps) {
      if (!a.process().isAlive()) {
        log.line("%s was down at the end: restarting it", a.name());
        a.start();
      }
      a.awaitReady();
    }
  }

  @Override
  public void close() {
    registry.close();
    kafka.close();
  }
}
