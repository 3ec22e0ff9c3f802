package io.giftkit.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.giftkit.core.GiftkitException;
import io.giftkit.core.Site;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConsistentKv} (reads and a watch) and {@link EtcdLocks} on a real three-member etcd cluster of the test's own,
 * with members killed and frozen. Each client talks to one member only, so "another member" is
 * exactly that. The fault tests put the cluster back before they end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeMemberClusterTest {

  private static final Duration START = Duration.ofSeconds(30);

  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static EtcdCluster etcd;

  @BeforeAll
  static void startEtcd() {
    registry = new ProcessRegistry();
    etcd = new EtcdCluster(registry, dir, 3);
    etcd.start(START);
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
    registry.close();
    assertThat(registry.survivors()).as("etcd processes left behind").isEmpty();
  }

  private static Client client(int member) {
    return Client.builder().endpoints(etcd.clientUrl(member)).build();
  }

  private static ConsistentKv kv(Client client) {
    return ConsistentKv.builder(client).keyPrefix("three/").timeout(Duration.ofSeconds(3)).build();
  }

  @Test
  @Order(1)
  void aLinearizableReadThroughAnotherMemberSeesAWrite() {
    try (Client c0 = client(0); Client c1 = client(1); Client c2 = client(2)) {
      for (int i = 0; i < 20; i++) {
        long revision = kv(c0).put("seen", "v" + i);
        for (Client other : new Client[] {c1, c2}) {
          KvRead read = kv(other).get("seen", Consistency.LINEARIZABLE);
          assertThat(read.entry().orElseThrow().value()).isEqualTo("v" + i);
          assertThat(read.entry().orElseThrow().modRevision()).isEqualTo(revision);
          assertThat(read.revision()).isGreaterThanOrEqualTo(revision);
          assertThat(read.mayBeStale()).isFalse();
        }
      }
    }
  }

  @Test
  @Order(2)
  void compareAndSetDeleteAndTtl() {
    try (Client c0 = client(0); Client c1 = client(1)) {
      ConsistentKv a = kv(c0);
      ConsistentKv b = kv(c1);
      assertThat(a.compareAndSet("owner", 0, "site-a")).as("create when absent").isTrue();
      assertThat(b.compareAndSet("owner", 0, "site-b")).as("create when present").isFalse();
      KvEntry seen = b.get("owner", Consistency.LINEARIZABLE).entry().orElseThrow();
      assertThat(seen.value()).isEqualTo("site-a");
      assertThat(seen.version()).isEqualTo(1);
      assertThat(a.compareAndSet("owner", seen.modRevision(), "site-a2")).isTrue();
      assertThat(b.compareAndSet("owner", seen.modRevision(), "site-b")).as("stale revision").isFalse();
      assertThat(b.get("owner", Consistency.LINEARIZABLE).entry().orElseThrow().value()).isEqualTo("site-a2");
      assertThat(b.delete("owner")).isTrue();
      assertThat(a.delete("owner")).isFalse();
      assertThat(a.get("owner", Consistency.LINEARIZABLE).entry()).isEmpty();

      a.put("session", "x", Duration.ofSeconds(1));
      assertThat(b.get("session", Consistency.LINEARIZABLE).entry()).isPresent();
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
          .until(() -> b.get("session", Consistency.LINEARIZABLE).entry().isEmpty());

      assertThatThrownBy(() -> a.get(" ", Consistency.LINEARIZABLE)).hasMessage("key must not be blank, but was \" \"");
      assertThatThrownBy(() -> a.compareAndSet("k", -1, "v"))
          .hasMessage("expectedModRevision must be >= 0, but was -1");
      assertThatThrownBy(() -> a.put("k", "v", Duration.ZERO)).hasMessageStartingWith("ttl must be");
    }
  }

  /** The README's key-value example, compiled and run. */
  @Test
  @Order(2)
  void theReadmeExample() {
    try (Client client = Client.builder().endpoints(etcd.clientUrls().toArray(String[]::new)).build()) {
      // README: kv
      ConsistentKv kv = ConsistentKv.builder(client).keyPrefix("gift/").build();
      long rev = kv.put("room:42:owner", "site-a");
      KvRead read = kv.get("room:42:owner", Consistency.LINEARIZABLE);   // sees the put, from any member
      boolean moved = kv.compareAndSet("room:42:owner", read.entry().orElseThrow().modRevision(), "site-b");
      kv.put("session:7", "token", Duration.ofSeconds(30));                // gone after ~30 s (its own lease)
      kv.delete("room:42:owner");
      // end README
      assertThat(read.entry().orElseThrow().modRevision()).isEqualTo(rev);
      assertThat(moved).isTrue();
      assertThat(kv.get("room:42:owner", Consistency.LINEARIZABLE).entry()).isEmpty();
      assertThat(kv.get("session:7", Consistency.SERIALIZABLE).entry()).isPresent();
    }
  }

  /**
   * A follower is frozen ({@code SIGSTOP}) while writes go through the other two, then those two are
   * killed and the follower resumed: alone, without a leader, it still answers a serializable read with the
   * old value (and the read says it may be stale), while a linearizable read through it fails rather
   * than answer stale. A frozen process's kernel still accepts what its peers send until its socket
   * buffers are full, and it would apply that on resuming; so 10 MB of other writes go first, and the
   * write that matters is left queued in the leader, which dies with it.
   */
  @Test
  @Order(3)
  void aSerializableReadCanBeStaleAndSaysSoWhereALinearizableOneFails() {
    await().atMost(START).until(() -> etcd.leader() >= 0);
    int leader = etcd.leader();
    int cutOff = (leader + 1) % 3; // a follower: freezing the leader would stall the writes until an election
    int third = (leader + 2) % 3;
    try (Client toLeader = client(leader); Client toCutOff = client(cutOff)) {
      ConsistentKv writer = ConsistentKv.builder(toLeader).keyPrefix("three/").timeout(Duration.ofSeconds(20)).build();
      ConsistentKv isolated = kv(toCutOff);
      writer.put("balance", "old");
      await().atMost(Duration.ofSeconds(10)).until(() -> isolated.get("balance", Consistency.SERIALIZABLE)
          .entry().map(KvEntry::value).orElse("").equals("old"));
      try {
        etcd.member(cutOff).suspend();
        String oneMegabyte = "x".repeat(1_000_000);
        for (int i = 0; i < 10; i++) {
          writer.put("padding-" + i, oneMegabyte);
        }
        writer.put("balance", "new");
        assertThat(writer.get("balance", Consistency.LINEARIZABLE).entry().orElseThrow().value()).isEqualTo("new");
        etcd.member(leader).kill();
        etcd.member(third).kill();
        etcd.member(cutOff).resume();

        KvRead stale = isolated.get("balance", Consistency.SERIALIZABLE);
        assertThat(stale.entry().orElseThrow().value()).isEqualTo("old");
        assertThat(stale.mayBeStale()).isTrue();
        assertThat(stale.consistency()).isEqualTo(Consistency.SERIALIZABLE);
        assertThatThrownBy(() -> isolated.get("balance", Consistency.LINEARIZABLE))
            .isInstanceOf(GiftkitException.class);
      } finally {
        if (etcd.member(cutOff).isSuspended()) {
          etcd.member(cutOff).resume();
        }
        for (int i = 0; i < 3; i++) {
          if (!etcd.member(i).isAlive()) {
            etcd.member(i).start();
          }
        }
        for (int i = 0; i < 3; i++) {
          etcd.awaitHealthy(i, START);
        }
      }
      assertThat(isolated.get("balance", Consistency.LINEARIZABLE).entry().orElseThrow().value()).isEqualTo("new");
    }
  }

  /**
   * The holder talks to the etcd leader, which is killed while another contender (on a follower) waits:
   * the holder cannot renew and is told; the waiter gets the lock after the holder's lease ran out in
   * etcd, with a higher token, and at that moment the old holder no longer counts itself the holder.
   */
  @Test
  @Order(4)
  void whenTheLeaderIsKilledTheNextHolderGetsAHigherTokenAndTheOldOneIsNoLongerHeld() throws Exception {
    await().atMost(START).until(() -> etcd.leader() >= 0);
    int leader = etcd.leader();
    int follower = (leader + 1) % 3;
    try (Client onLeader = client(leader); Client onFollower = client(follower);
        EtcdLocks holderLocks = EtcdLocks.builder(onLeader).leaseTtl(Duration.ofSeconds(3))
            .timeout(Duration.ofSeconds(2)).build();
        // the waiter's lease must outlast the election (no renewal succeeds until there is a new leader)
        EtcdLocks waiterLocks = EtcdLocks.builder(onFollower).leaseTtl(Duration.ofSeconds(10)).build()) {
      EtcdLock first = holderLocks.tryLock("leader-kill", Duration.ofSeconds(5)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      first.whenLost((l, why) -> lost.countDown());
      CompletableFuture<Optional<EtcdLock>> waiting =
          CompletableFuture.supplyAsync(() -> waiterLocks.tryLock("leader-kill", Duration.ofSeconds(40)));
      await().atMost(Duration.ofSeconds(10)).until(() -> onFollower.getKVClient()
          .get(Etcd.bytes(EtcdLocks.DEFAULT_KEY_PREFIX + "leader-kill/"),
              GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(2, TimeUnit.SECONDS).getCount() == 2);

      etcd.member(leader).kill();

      try (EtcdLock second = waiting.get(45, TimeUnit.SECONDS).orElseThrow()) {
        assertThat(first.isHeld()).as("the old holder at the moment the new one got the lock").isFalse();
        assertThat(second.isHeld()).isTrue();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
      }
      assertThat(lost.await(10, TimeUnit.SECONDS)).as("the old holder was told").isTrue();
      first.close();
    } finally {
      etcd.restart(leader, START);
    }
  }

  /**
   * The member a watch talks to is killed; meanwhile two puts and a delete go through the leader. Once
   * the member is back, the watch delivers exactly those changes, in order, none lost and none twice
   * (it reopens from the revision after the last one it delivered), and counts the failure and the
   * reconnect.
   */
  @Test
  @Order(5)
  void aWatchResumesAfterItsMemberRestartsWithoutLosingOrRepeatingChanges() throws Exception {
    await().atMost(START).until(() -> etcd.leader() >= 0);
    int leader = etcd.leader();
    int watched = (leader + 1) % 3;
    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    try (Client toLeader = client(leader); Client toWatched = client(watched)) {
      ConsistentKv writer = kv(toLeader);
      ConsistentKv watcher = kv(toWatched);
      try (KvWatch watch = watcher.watchPrefix("restart/", 0, events::add)) {
        long r0 = writer.put("restart/k", "before");
        assertThat(poll(events).revision()).isEqualTo(r0);

        etcd.member(watched).kill();
        long r1 = writer.put("restart/k", "during-1");
        long r2 = writer.put("restart/j", "during-2");
        assertThat(writer.delete("restart/k")).isTrue();
        long r3 = writer.get("restart/k", Consistency.LINEARIZABLE).revision();
        etcd.restart(watched, START);

        assertThat(poll(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "restart/k", "during-1", r1));
        assertThat(poll(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "restart/j", "during-2", r2));
        assertThat(poll(events)).isEqualTo(new KvEvent(KvEvent.Type.DELETE, "restart/k", "", r3));
        long r4 = writer.put("restart/k", "after");
        assertThat(poll(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "restart/k", "after", r4));
        assertThat(events).as("no change delivered twice").isEmpty();
        assertThat(watch.errors()).isPositive();
        assertThat(watch.reconnects()).isPositive();
        assertThat(watcher.watchReconnects()).isEqualTo(watch.reconnects());
      }
    } finally {
      if (!etcd.member(watched).isAlive()) {
        etcd.restart(watched, START);
      }
    }
  }

  /**
   * A resolver talks to a member that is killed; meanwhile, through the leader, one instance
   * deregisters, two register (one in another site), and the history is compacted. Once the member is
   * back, the resolver shows exactly the live instances (its watch either replays the changes or,
   * when the member already applied the compaction, re-reads the list).
   */
  @Test
  @Order(6)
  void aResolverWhoseMemberWasDownWhileInstancesChangedShowsExactlyTheLiveOnes() throws Exception {
    await().atMost(START).until(() -> etcd.leader() >= 0);
    int leader = etcd.leader();
    int watched = (leader + 1) % 3;
    Site a = Site.of("a");
    try (Client toLeader = client(leader); Client toWatched = client(watched);
        ServiceRegistry registry = ServiceRegistry.builder(toLeader).build()) {
      ServiceRegistration x1 = registry.register(ServiceInstance.of("three-svc", "a", "x1", "10.0.0.1:1", Map.of()));
      registry.register(ServiceInstance.of("three-svc", "a", "x2", "10.0.0.2:1", Map.of()));
      try (ServiceResolver resolver = ServiceResolver.builder(toWatched, "three-svc", a).start()) {
        assertThat(resolver.instances().get(a)).extracting(ServiceInstance::instanceId).containsExactly("x1", "x2");

        etcd.member(watched).kill();
        x1.close();
        registry.register(ServiceInstance.of("three-svc", "a", "x3", "10.0.0.3:1", Map.of()));
        registry.register(ServiceInstance.of("three-svc", "b", "y1", "10.0.1.1:1", Map.of()));
        long revision = kv(toLeader).get("any", Consistency.LINEARIZABLE).revision();
        toLeader.getKVClient().compact(revision).get(10, TimeUnit.SECONDS);
        etcd.restart(watched, START);

        await().atMost(Duration.ofSeconds(30)).until(() -> resolver.instances().equals(Map.of(
            a, instancesInA("x2", "x3"), Site.of("b"), List.of(ServiceInstance.of("three-svc", "b", "y1",
                "10.0.1.1:1", Map.of())))));
        assertThat(resolver.instances().keySet()).containsExactly(a, Site.of("b"));
        assertThat(resolver.choose().orElseThrow().site()).isEqualTo(a);
        assertThat(resolver.watchErrors()).isPositive();
      }
    } finally {
      if (!etcd.member(watched).isAlive()) {
        etcd.restart(watched, START);
      }
    }
  }

  private static List<ServiceInstance> instancesInA(String... ids) {
    return Arrays.stream(ids)
        .map(id -> ServiceInstance.of("three-svc", "a", id, "10.0.0." + id.substring(1) + ":1", Map.of())).toList();
  }

  private static KvEvent poll(BlockingQueue<KvEvent> events) throws InterruptedException {
    KvEvent e = events.poll(30, TimeUnit.SECONDS);
    assertThat(e).as("an event within 30 s").isNotNull();
    return e;
  }
}
