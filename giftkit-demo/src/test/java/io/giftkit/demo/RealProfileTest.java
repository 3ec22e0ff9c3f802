package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.giftkit.demo.gifts.GiftOrderService;
import io.giftkit.demo.gifts.SendGift;
import io.giftkit.demo.gifts.Settlement;
import io.giftkit.demo.rooms.RoomDirectory;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.RedisExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The "real" profile as a deployment runs it, configured only through the variables
 * application-real.yml reads: MariaDB shards it creates itself, a MariaDB control database, Redis,
 * and Kafka at KAFKA_BOOTSTRAP (the in-JVM broker here).
 */
@SpringBootTest
@ActiveProfiles("real")
@DirtiesContext
class RealProfileTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static final String RUN = Long.toHexString(System.nanoTime());
  static final String PREFIX = "gk_real_" + RUN + "_";

  static io.giftkit.testing.process.ProcessRegistry processes;
  static io.giftkit.testing.process.EtcdCluster etcd;

  @org.junit.jupiter.api.BeforeAll
  static void startEtcd() throws Exception {
    processes = new io.giftkit.testing.process.ProcessRegistry();
    etcd = new io.giftkit.testing.process.EtcdCluster(processes,
        java.nio.file.Files.createTempDirectory("giftkit-real-etcd"), 1);
    etcd.start(Duration.ofSeconds(30));
  }

  @DynamicPropertySource
  static void environment(DynamicPropertyRegistry r) {
    r.add("GIFTKIT_ETCD_ENDPOINTS", () -> etcd.clientUrl(0));
    r.add("GIFTKIT_ETCD_NAMESPACE", () -> "real-" + RUN + "/");
    r.add("GIFTKIT_SHARD_URL_PREFIX", () -> MARIADB.serverUrl() + PREFIX);
    r.add("GIFTKIT_CONTROL_URL", MARIADB::jdbcUrl);
    r.add("GIFTKIT_DB_USER", MARIADB::user);
    r.add("GIFTKIT_DB_PASSWORD", MARIADB::password);
    r.add("GIFTKIT_REDIS_URL", REDIS::url);
    r.add("KAFKA_BOOTSTRAP", () -> KafkaBroker.shared().bootstrapServers());
    DemoTestKafka.isolate(r, "real-gifts-" + RUN, "b.real-gifts-" + RUN);
    // after isolate(): the real profile's provider database, as GIFTKIT_PAYMENT_URL would give it
    r.add("giftkit.demo.payment.url", () -> MARIADB.serverUrl() + PREFIX + "payments?createDatabaseIfNotExist=true");
    r.add("giftkit.cache.caches.rooms.l2-ttl", () -> "5s");
  }

  @AfterAll
  static void dropShards() throws Exception {
    if (processes != null) {
      processes.close(); // etcd
    }
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement()) {
      for (int i = 0; i < 10; i++) {
        s.execute("DROP DATABASE IF EXISTS " + PREFIX + "gift_shard_" + i);
      }
      s.execute("DROP DATABASE IF EXISTS " + PREFIX + "payments");
    }
  }

  @Autowired GiftOrderService orders;
  @Autowired DataSource control;
  @Autowired RoomDirectory rooms;

  @Autowired org.springframework.context.ApplicationContext context;

  @Test
  void theRealProfileHasSafeDefaults() {
    assertThat(context.getBeansOfType(io.giftkit.demo.faults.AdminController.class))
        .as("no unauthenticated fault injection").isEmpty();
    assertThat(context.getEnvironment().getProperty("management.endpoint.health.show-details"))
        .as("health details (JDBC URLs, errors) only for an authorised caller").isEqualTo("when-authorized");
    assertThat(context.getBeansOfType(io.giftkit.boot.GiftkitWritableEndpoint.class))
        .as("the giftkit endpoint cannot force breakers or demote hot keys").isEmpty();
  }

  @Test
  void theRealProfileRunsOnMariaDbRedisAndKafkaFromItsVariables() throws Exception {
    for (int i = 0; i < 10; i++) {
      assertThat(orders.send(new SendGift(100L + i, 1L, 2L, 1, "real-" + i)).status()).isEqualTo("PAID");
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> Settlement.totals(control).rows() == 10);
    assertThat(rooms.tieredCache()).isTrue();
    List<String> shardDatabases = new ArrayList<>();
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW DATABASES LIKE '" + PREFIX + "%'")) {
      while (rs.next()) {
        shardDatabases.add(rs.getString(1));
      }
    }
    assertThat(shardDatabases).as("the ten shards and the provider, created by the application").hasSize(11);
  }

  @Test
  void theRealProfileRegistersThisInstanceAndItsPaymentInstancesInEtcdAndLeadsTheJobs() throws Exception {
    try (io.etcd.jetcd.Client raw = io.etcd.jetcd.Client.builder().endpoints(etcd.clientUrl(0)).build();
        io.giftkit.coord.ServiceResolver demos = io.giftkit.coord.ServiceResolver.builder(raw, "gift-demo",
            io.giftkit.core.Site.of("a")).keyPrefix("real-" + RUN + "/giftkit").start()) {
      assertThat(demos.instances().get(io.giftkit.core.Site.of("a"))).singleElement()
          .extracting(io.giftkit.coord.ServiceInstance::address).isEqualTo("127.0.0.1:8080");
    }
    assertThat(context.getBean(io.giftkit.demo.gifts.PaymentGateway.class).describe())
        .containsEntry("discovery", "etcd");
    io.giftkit.demo.cluster.JobLeadership jobs = context.getBean(io.giftkit.demo.cluster.JobLeadership.class);
    await().atMost(Duration.ofSeconds(15)).until(jobs::isLeader);
    assertThat(jobs.mode()).isEqualTo("etcd");
  }
}
