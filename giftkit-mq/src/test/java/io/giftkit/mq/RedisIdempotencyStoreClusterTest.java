package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.mq.RedisIdempotencyStore.Fault;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.RedisCluster;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis idempotency store on a real Redis Cluster of the test's own (three {@code redis-server}
 * masters on loopback ports, killed at the end): one batch's keys spread over every master.
 */
class RedisIdempotencyStoreClusterTest {

  private static ProcessRegistry registry;
  private static RedisClusterClient client;
  private static StatefulRedisClusterConnection<String, String> connection;

  @BeforeAll
  static void startCluster() throws Exception {
    registry = new ProcessRegistry();
    try {
      RedisCluster cluster = new RedisCluster(registry, Files.createTempDirectory("giftkit-idem-cluster"), 3);
      cluster.start(Duration.ofSeconds(30));
      client = RedisClusterClient.create(cluster.urls().stream().map(RedisURI::create).toList());
      connection = client.connect();
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  @AfterAll
  static void stopCluster() {
    try {
      if (connection != null) {
        connection.close();
      }
      if (client != null) {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    } finally {
      registry.close();
    }
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  private static RedisIdempotencyStore store(String prefix) {
    return RedisIdempotencyStore.create(connection, prefix, Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofSeconds(2));
  }

  /** @return 30 keys whose Redis keys lie on all three masters */
  private static List<String> keysOnEveryMaster(String prefix) {
    List<String> keys = new ArrayList<>();
    Set<Integer> masters = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      keys.add("order-" + i);
      masters.add(client.getPartitions().getPartitionBySlot(SlotHash.getSlot(prefix + "g:order-" + i)).getUri()
          .getPort());
    }
    assertThat(masters).as("the batch's keys on every master").hasSize(3);
    return keys;
  }

  @Test
  void claimsCompletionsAndReleasesAcrossTheMasters() throws Exception {
    String prefix = "idem-" + System.nanoTime() + ":";
    List<String> keys = keysOnEveryMaster(prefix);
    RedisIdempotencyStore store = store(prefix);
    RedisIdempotencyStore.Claims claims = store.claimAll("g", keys);
    assertThat(claims.fresh()).containsExactlyElementsOf(keys);
    assertThatThrownBy(() -> store(prefix).claimAll("g", keys.subList(10, 11)))
        .as("pending on another consumer").isInstanceOf(IllegalStateException.class).hasMessageContaining("order-10");
    claims.complete();
    assertThat(store(prefix).claimAll("g", keys).fresh()).as("all done: duplicates").isEmpty();

    RedisIdempotencyStore.Claims failed = store.claimAll("h", keys);
    failed.release();
    assertThat(store.claimAll("h", keys).fresh()).as("released: the retry claims them again")
        .containsExactlyElementsOf(keys);
  }

  @Test
  void aClaimThatTimesOutAfterReachingTheMastersReleasesItsOwnKeys() throws Exception {
    String prefix = "idem-timeout-" + System.nanoTime() + ":";
    List<String> keys = keysOnEveryMaster(prefix);
    RedisIdempotencyStore store = store(prefix);
    AtomicInteger left = new AtomicInteger(1);
    store.injectFaults(roundTrip -> roundTrip.equals("claim") && left.getAndDecrement() > 0
        ? Fault.TIME_OUT_AFTER_SENT : Fault.NONE);
    assertThatThrownBy(() -> store.claimAll("g", keys)).isInstanceOf(TimeoutException.class);
    for (String key : keys) {
      assertThat(connection.sync().exists(prefix + "g:" + key)).as("released on its master: %s", key).isZero();
    }
    assertThat(store.claimAll("g", keys).fresh()).containsExactlyElementsOf(keys);
  }
}
