package io.giftkit.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.giftkit.testing.MariaDbExtension;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link EtcdElections} against a real one-member etcd of the test's own (and MariaDB for the fenced write). */
class EtcdElectionTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static EtcdCluster etcd;
  private static Client clientA;
  private static Client clientB;

  @BeforeAll
  static void startEtcd() {
    registry = new ProcessRegistry();
    etcd = new EtcdCluster(registry, dir, 1);
    etcd.start(Duration.ofSeconds(30));
    clientA = Client.builder().endpoints(etcd.clientUrl(0)).build();
    clientB = Client.builder().endpoints(etcd.clientUrl(0)).build();
  }

  @AfterAll
  static void stopEtcd() {
    clientA.close();
    clientB.close();
    etcd.close();
    registry.close();
    assertThat(registry.survivors()).as("etcd processes left behind").isEmpty();
  }

  private static EtcdElections elections(Client client) {
    return EtcdElections.builder(client).leaseTtl(Duration.ofSeconds(2)).timeout(Duration.ofSeconds(2)).build();
  }

  private static long contenders(String election) throws Exception {
    return clientA.getKVClient().get(Etcd.bytes(EtcdElections.DEFAULT_KEY_PREFIX + election + "/"),
        GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(2, TimeUnit.SECONDS).getCount();
  }

  /**
   * Two contenders on two clients: the first leads, the second waits (its key exists, its campaign has
   * not returned); an observer on a third elections instance sees the first; once the first resigns
   * the second leads with a higher token, and the observer sees that, in order.
   */
  @Test
  void onlyOneLeadsAndTheSecondLeadsAfterTheFirstResigns() throws Exception {
    List<String> observed = new ArrayList<>();
    CountDownLatch sawSecond = new CountDownLatch(1);
    try (EtcdElections a = elections(clientA); EtcdElections b = elections(clientB);
        EtcdElections watcher = elections(clientB);
        KvWatch observing = watcher.observe("runner", (name, leader) -> {
          synchronized (observed) {
            observed.add(leader.map(l -> l.value() + "@" + l.token()).orElse("none"));
          }
          if (leader.map(l -> l.value().equals("b")).orElse(false)) {
            sawSecond.countDown();
          }
        })) {
      Leadership first = a.campaign("runner", "a");
      assertThat(first.isLeader()).isTrue();
      CompletableFuture<Optional<Leadership>> second =
          CompletableFuture.supplyAsync(() -> b.campaign("runner", "b", Duration.ofSeconds(20)));
      await().atMost(Duration.ofSeconds(10)).until(() -> contenders("runner") == 2);
      assertThat(second).as("the second contender waits while the first leads").isNotDone();
      assertThat(first.isLeader()).isTrue();
      assertThat(b.leader("runner")).map(Leader::value).contains("a");
      assertThat(b.leader("runner")).map(Leader::token).contains(first.token());

      first.resign();
      assertThat(first.isLeader()).isFalse();
      assertThat(first.lostReason()).as("a resignation is not a loss").isEmpty();
      Leadership next = second.get(10, TimeUnit.SECONDS).orElseThrow();
      assertThat(next.isLeader()).isTrue();
      assertThat(next.token()).isGreaterThan(first.token());
      assertThat(a.leader("runner")).map(Leader::value).contains("b");
      assertThat(sawSecond.await(10, TimeUnit.SECONDS)).as("the observer saw the second leader").isTrue();
      synchronized (observed) {
        assertThat(observed).containsExactly("none", "a@" + first.token(), "b@" + next.token());
      }
      assertThat(observing.errors()).isZero();
      next.resign();
    }
    assertThat(contenders("runner")).isZero();
  }

  /**
   * The leader's lease is revoked behind its back: it is told and stops counting itself the leader; the
   * waiting contender leads with a higher token, and that token, used with FencedWrite, makes MariaDB
   * refuse the old leader's write after the new leader's.
   */
  @Test
  void aLeaderWhoseLeaseIsRevokedIsToldAndTheOtherTakesOverWithAHigherToken() throws Exception {
    try (Connection db = MARIADB.newConnection(); Statement s = db.createStatement();
        EtcdElections a = elections(clientA); EtcdElections b = elections(clientB)) {
      s.execute("CREATE TABLE runner_state (id INT PRIMARY KEY, owner VARCHAR(10) NOT NULL,"
          + " fence BIGINT NOT NULL DEFAULT 0)");
      s.execute("INSERT INTO runner_state (id, owner) VALUES (1, 'nobody')");
      Leadership first = a.campaign("revoked", "a", Duration.ofSeconds(5)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      AtomicReference<String> why = new AtomicReference<>();
      first.whenLost((l, reason) -> {
        why.set(reason);
        lost.countDown();
      });
      assertThat(FencedWrite.update(db, "runner_state", "fence", "owner = ?", "id = 1", first.token(), "a")).isOne();
      CompletableFuture<Optional<Leadership>> second =
          CompletableFuture.supplyAsync(() -> b.campaign("revoked", "b", Duration.ofSeconds(20)));
      await().atMost(Duration.ofSeconds(10)).until(() -> contenders("revoked") == 2);

      long lease = clientB.getKVClient().get(Etcd.bytes(first.key())).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease();
      clientB.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);

      Leadership next = second.get(10, TimeUnit.SECONDS).orElseThrow();
      assertThat(next.token()).isGreaterThan(first.token());
      assertThat(lost.await(10, TimeUnit.SECONDS)).as("the old leader was told").isTrue();
      assertThat(why.get()).contains("expired or was revoked");
      assertThat(first.isLeader()).isFalse();
      assertThat(first.lostReason()).contains(why.get());

      assertThat(FencedWrite.update(db, "runner_state", "fence", "owner = ?", "id = 1", next.token(), "b")).isOne();
      assertThat(FencedWrite.update(db, "runner_state", "fence", "owner = ?", "id = 1", first.token(), "a"))
          .as("the old leader's write").isZero();
      try (ResultSet r = s.executeQuery("SELECT owner, fence FROM runner_state WHERE id = 1")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getString("owner")).isEqualTo("b");
        assertThat(r.getLong("fence")).isEqualTo(next.token());
      }
      next.resign();
    }
  }

  /**
   * The leader is a process of its own, frozen with {@code SIGSTOP} past its 2 s lease: the other
   * contender leads with a higher token; once the frozen leader runs again it is told it lost.
   */
  @Test
  void aLeaderProcessFrozenPastItsLeaseIsReplacedAndToldWhenItResumes() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ManagedProcess child = new ManagedProcess(registry, "paused-leader",
        List.of(java, "-cp", System.getProperty("java.class.path"), PausedLeader.class.getName(), etcd.clientUrl(0)),
        Map.of(), dir.resolve("paused-leader.log"));
    child.start();
    try (EtcdElections b = elections(clientB)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(child.log()).contains("LEADING "));
      long childToken = Long.parseLong(line(child.log(), "LEADING ").substring("LEADING ".length()));

      child.suspend();
      Leadership next = b.campaign("frozen", "b", Duration.ofSeconds(20)).orElseThrow();
      assertThat(next.token()).isGreaterThan(childToken);
      assertThat(b.leader("frozen")).map(Leader::value).contains("b");
      child.resume();
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(child.log()).contains("LOST "));
      await().atMost(Duration.ofSeconds(10)).until(() -> !child.isAlive());
      assertThat(next.isLeader()).isTrue();
      next.resign();
    } finally {
      child.kill();
    }
  }

  private static String line(Path log, String start) throws Exception {
    return Files.readAllLines(log).stream().filter(l -> l.startsWith(start)).findFirst().orElseThrow();
  }

  /** A campaign that gives up in time returns empty and leaves no key behind to hold up the contenders after it. */
  @Test
  void aCampaignThatGivesUpLeavesNoKey() throws Exception {
    try (EtcdElections a = elections(clientA); EtcdElections b = elections(clientB)) {
      Leadership first = a.campaign("gives-up", "a");
      assertThat(b.campaign("gives-up", "b", Duration.ofMillis(500))).isEmpty();
      await().atMost(Duration.ofSeconds(5)).until(() -> contenders("gives-up") == 1);
      first.resign();
      assertThat(b.leader("gives-up")).isEmpty();
    }
  }

  /** Closing the elections resigns what they still hold at once (not after the 60 s lease). */
  /** {@code held()} lists the leadership while held; a revoked lease counts one lost leadership. */
  @Test
  void heldLeadershipsAndLostCountForMetrics() throws Exception {
    try (EtcdElections a = elections(clientA)) {
      assertThat(a.held()).isEmpty();
      Leadership first = a.campaign("counted", "a", Duration.ofSeconds(5)).orElseThrow();
      assertThat(a.held()).containsExactly(first);
      first.resign();
      assertThat(a.held()).isEmpty();
      assertThat(a.lostLeaderships()).isZero();
      Leadership second = a.campaign("counted", "a", Duration.ofSeconds(5)).orElseThrow();
      long lease = clientB.getKVClient().get(Etcd.bytes(second.key())).get(5, TimeUnit.SECONDS).getKvs().get(0)
          .getLease();
      clientB.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.lostLeaderships() == 1);
      assertThat(a.held()).isEmpty();
      assertThat(second.isLeader()).isFalse();
    }
  }

  @Test
  void closingTheElectionsResigns() throws Exception {
    Leadership forgotten;
    try (EtcdElections a = EtcdElections.builder(clientA).leaseTtl(Duration.ofSeconds(60)).build()) {
      forgotten = a.campaign("forgotten", "a");
    }
    assertThat(forgotten.isLeader()).isFalse();
    try (EtcdElections b = elections(clientB)) {
      Leadership next = b.campaign("forgotten", "b", Duration.ofSeconds(5)).orElseThrow();
      assertThat(next.token()).isGreaterThan(forgotten.token());
    }
  }

  @Test
  void badArgumentsAreNamedWithTheirValue() {
    try (EtcdElections e = elections(clientA)) {
      assertThatThrownBy(() -> e.campaign(" ", "v")).hasMessage("election must not be blank, but was \" \"");
      assertThatThrownBy(() -> e.campaign("x", null, Duration.ofSeconds(1)))
          .hasMessage("value must not be null, but was null");
      assertThatThrownBy(() -> e.campaign("x", "v", Duration.ZERO)).hasMessageStartingWith("wait must be")
          .hasMessageContaining("but was 0");
      assertThatThrownBy(() -> e.observe("", (n, l) -> { })).hasMessage("election must not be blank, but was \"\"");
      assertThatThrownBy(() -> e.leader(null)).hasMessage("election must not be blank, but was null");
    }
    assertThatThrownBy(() -> EtcdElections.builder(clientA).leaseTtl(Duration.ofMillis(1500)))
        .hasMessage("leaseTtl must be whole seconds, at least 2s, but was 1500ms");
  }

  /** The README's election example, compiled and run (against MariaDB). */
  @Test
  void theReadmeExample() throws Exception {
    Client client = clientA;
    List<String> log = new ArrayList<>();
    AtomicReference<String> stopped = new AtomicReference<>();
    Runnable stopRunning = () -> stopped.set("stopped");
    try (Connection connection = MARIADB.newConnection(); Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE readme_runner (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL,"
          + " fence BIGINT NOT NULL DEFAULT 0)");
      s.execute("INSERT INTO readme_runner (id, owner) VALUES (1, 'nobody')");
      // README: election
      EtcdElections elections = EtcdElections.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
      KvWatch following = elections.observe("settlement-runner", (name, leader) ->
          log.add(name + " is led by " + leader.map(Leader::value).orElse("nobody")));
      Leadership lead = elections.campaign("settlement-runner", "node-1:8080");   // blocks until it leads
      lead.whenLost((l, why) -> stopRunning.run());
      int rows = FencedWrite.update(connection, "readme_runner", "fence", "owner = ?", "id = 1", lead.token(),
          "node-1");
      lead.resign();
      following.close();
      elections.close();
      // end README
      assertThat(rows).isOne();
      assertThat(stopped.get()).isNull();
      assertThat(log).startsWith("settlement-runner is led by nobody");
    }
  }
}
