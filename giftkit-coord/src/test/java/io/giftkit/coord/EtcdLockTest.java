package io.giftkit.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.giftkit.core.FakeTicker;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link EtcdLocks} against a real one-member etcd of the test's own (and MariaDB for the fenced write). */
class EtcdLockTest {

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

  private static EtcdLocks locks(Client client) {
    return EtcdLocks.builder(client).leaseTtl(Duration.ofSeconds(2)).timeout(Duration.ofSeconds(2)).build();
  }

  /**
   * Two processes' worth of contenders (two clients, two threads each) on one lock: never two inside at
   * once, tokens strictly increase in the order the lock was held, and an unguarded read-modify-write
   * of a counter in etcd under the lock loses no increment.
   */
  @Test
  void contendersNeverBothHoldItAndTokensStrictlyIncrease() throws Exception {
    ConsistentKv kv = ConsistentKv.builder(clientA).keyPrefix("contend/").build();
    kv.put("counter", "0");
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<Long> tokens = new ArrayList<>();
    int rounds = 10;
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (EtcdLocks a = locks(clientA); EtcdLocks b = locks(clientB)) {
      List<Future<?>> done = new ArrayList<>();
      for (EtcdLocks locks : List.of(a, a, b, b)) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < rounds; i++) {
            try (EtcdLock lock = locks.tryLock("contended", Duration.ofSeconds(20)).orElseThrow()) {
              if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
              }
              synchronized (tokens) {
                tokens.add(lock.fencingToken());
              }
              KvRead read = kv.get("counter", Consistency.LINEARIZABLE);
              kv.put("counter", Long.toString(Long.parseLong(read.entry().orElseThrow().value()) + 1));
              inside.decrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(overlaps).hasValue(0);
    assertThat(tokens).hasSize(4 * rounds).isSorted().doesNotHaveDuplicates();
    assertThat(kv.get("counter", Consistency.LINEARIZABLE).entry().orElseThrow().value()).isEqualTo("40");
  }

  /**
   * The holder's lease is revoked behind its back (as etcd does when it expires): the holder is told
   * and stops counting itself the holder, the next holder's token is higher, and the old holder's
   * fenced database write after the new holder's is refused by MariaDB.
   */
  @Test
  void aLostLeaseIsReportedAndTheStaleHoldersFencedWriteIsRefused() throws Exception {
    try (Connection db = MARIADB.newConnection(); Statement s = db.createStatement();
        EtcdLocks a = locks(clientA); EtcdLocks b = locks(clientB)) {
      s.execute("CREATE TABLE settlement (month VARCHAR(7) PRIMARY KEY, total BIGINT NOT NULL,"
          + " fence BIGINT NOT NULL DEFAULT 0)");
      s.execute("INSERT INTO settlement (month, total) VALUES ('2026-12', 0)");
      EtcdLock first = a.tryLock("settlement", Duration.ofSeconds(5)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      AtomicReference<String> why = new AtomicReference<>();
      first.whenLost((lock, reason) -> {
        why.set(reason);
        lost.countDown();
      });
      assertThat(FencedWrite.update(db, "settlement", "fence", "total = ?", "month = ?", first, 100, "2026-12"))
          .isEqualTo(1);

      long lease = clientB.getKVClient().get(Etcd.bytes(first.key())).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease();
      clientB.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);

      assertThat(lost.await(10, TimeUnit.SECONDS)).as("lost listener called").isTrue();
      assertThat(why.get()).contains("expired or was revoked");
      assertThat(first.isHeld()).isFalse();
      assertThat(first.lostReason()).contains(why.get());
      CountDownLatch late = new CountDownLatch(1);
      first.whenLost((lock, reason) -> late.countDown());
      assertThat(late.getCount()).as("a listener added after the loss is told at once").isZero();

      try (EtcdLock second = b.tryLock("settlement", Duration.ofSeconds(5)).orElseThrow()) {
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(FencedWrite.update(db, "settlement", "fence", "total = ?", "month = ?", second, 200, "2026-12"))
            .isEqualTo(1);
        assertThat(FencedWrite.update(db, "settlement", "fence", "total = ?", "month = ?", first, 999, "2026-12"))
            .as("the stale holder's write").isZero();
      }
      try (ResultSet r = s.executeQuery("SELECT total, fence FROM settlement WHERE month = '2026-12'")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong("total")).isEqualTo(200);
        assertThat(r.getLong("fence")).isGreaterThan(first.fencingToken());
      }
      first.close();
    }
  }

  /**
   * A holder cut off from etcd (the member frozen with SIGSTOP) for longer than its TTL is told by its
   * own clock, without any answer from etcd; once etcd is back the next holder gets a higher token.
   */
  @Test
  void aHolderCutOffFromEtcdPastItsTtlIsToldByItsOwnClock() throws Exception {
    try (EtcdLocks a = locks(clientA); EtcdLocks b = locks(clientB)) {
      EtcdLock first = a.tryLock("cut-off", Duration.ofSeconds(5)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      AtomicReference<String> why = new AtomicReference<>();
      first.whenLost((lock, reason) -> {
        why.set(reason);
        lost.countDown();
      });
      etcd.member(0).suspend();
      try {
        assertThat(lost.await(15, TimeUnit.SECONDS)).as("lost listener called").isTrue();
        assertThat(first.isHeld()).isFalse();
        assertThat(why.get()).contains("was not renewed within its TTL");
      } finally {
        etcd.member(0).resume();
      }
      try (EtcdLock second = b.tryLock("cut-off", Duration.ofSeconds(20)).orElseThrow()) {
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(second.isHeld()).isTrue();
      }
    }
  }

  /**
   * The holder is a process of its own, frozen with {@code SIGSTOP} past its 2 s lease while it keeps
   * writing a fenced row: another contender gets the lock with a higher token and writes; once the
   * holder runs again, its next write is refused by MariaDB, so the row holds the new holder's write.
   */
  @Test
  void aHolderProcessPausedPastItsLeaseCannotOverwriteTheNextHolder() throws Exception {
    try (Connection db = MARIADB.newConnection(); Statement s = db.createStatement(); EtcdLocks b = locks(clientB)) {
      s.execute("CREATE TABLE ledger (id INT PRIMARY KEY, writer VARCHAR(20) NOT NULL, seq BIGINT NOT NULL,"
          + " fence BIGINT NOT NULL DEFAULT 0)");
      s.execute("INSERT INTO ledger (id, writer, seq) VALUES (1, 'nobody', 0)");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ManagedProcess holder = new ManagedProcess(registry, "paused-holder",
          List.of(java, "-cp", System.getProperty("java.class.path"), PausedHolder.class.getName(), etcd.clientUrl(0),
              MARIADB.jdbcUrl(), MARIADB.user()),
          Map.of("GIFTKIT_MYSQL_PASSWORD", MARIADB.password()), dir.resolve("paused-holder.log"));
      holder.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(holder.log()).contains("WROTE 3 rows=1"));
        long holderToken = Long.parseLong(line(holder.log(), "HOLDING ").substring("HOLDING ".length()));

        holder.suspend();
        try (EtcdLock next = b.tryLock("paused-process", Duration.ofSeconds(20)).orElseThrow()) {
          assertThat(next.fencingToken()).isGreaterThan(holderToken);
          assertThat(FencedWrite.update(db, "ledger", "fence", "writer = ?, seq = ?", "id = 1", next, "next", 1))
              .isEqualTo(1);
          holder.resume();
          await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(holder.log()).contains("REFUSED"));
        }
        try (ResultSet r = s.executeQuery("SELECT writer, seq FROM ledger WHERE id = 1")) {
          assertThat(r.next()).isTrue();
          assertThat(r.getString("writer")).isEqualTo("next");
          assertThat(r.getLong("seq")).isEqualTo(1);
        }
      } finally {
        holder.kill();
        System.out.println("paused holder's log:" + System.lineSeparator() + ManagedProcess.tail(holder.log(), 12));
      }
    }
  }

  private static String line(Path log, String prefix) throws java.io.IOException {
    return Files.readAllLines(log).stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
  }

  /**
   * The holder's process stood still past its lease (its clock jumps, as after a long GC pause or
   * SIGSTOP of the holder): {@code isHeld()} is false at once, the listener is told, the lease is
   * revoked so another contender gets the lock without waiting for the TTL.
   */
  @Test
  void aHolderWhoseClockPassedItsLeaseStopsHoldingAndFreesTheLock() throws Exception {
    FakeTicker clock = new FakeTicker();
    try (EtcdLocks paused = EtcdLocks.builder(clientA).leaseTtl(Duration.ofSeconds(30)).ticker(clock).build();
        EtcdLocks other = locks(clientB)) {
      EtcdLock first = paused.tryLock("paused", Duration.ofSeconds(5)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      first.whenLost((lock, reason) -> lost.countDown());
      assertThat(first.isHeld()).isTrue();
      clock.advance(Duration.ofSeconds(31));
      assertThat(first.isHeld()).isFalse();
      assertThat(lost.await(20, TimeUnit.SECONDS)).as("lost listener called by the next renewal tick").isTrue();
      // the lease had 30 s left in etcd; the holder revoked it, so this does not wait for it
      try (EtcdLock second = other.tryLock("paused", Duration.ofSeconds(10)).orElseThrow()) {
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
      }
    }
  }

  /** A contender that gives up leaves no waiting key behind: the next one gets the lock as soon as it is free. */
  @Test
  void tryLockGivesUpAfterItsWaitAndLeavesNoWaitingKey() throws Exception {
    try (EtcdLocks a = locks(clientA); EtcdLocks b = EtcdLocks.builder(clientB).leaseTtl(Duration.ofSeconds(60)).build()) {
      EtcdLock first = a.tryLock("busy", Duration.ofSeconds(5)).orElseThrow();
      Optional<EtcdLock> gaveUp = b.tryLock("busy", Duration.ofMillis(300));
      assertThat(gaveUp).isEmpty();
      first.close();
      assertThat(first.isHeld()).isFalse();
      // b's abandoned key had a 60 s lease: were it still there, this would time out
      try (EtcdLock next = a.tryLock("busy", Duration.ofSeconds(10)).orElseThrow()) {
        assertThat(next.fencingToken()).isGreaterThan(first.fencingToken());
        long keys = clientA.getKVClient().get(Etcd.bytes(EtcdLocks.DEFAULT_KEY_PREFIX + "busy/"),
            GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(5, TimeUnit.SECONDS).getCount();
        assertThat(keys).isEqualTo(1);
      }
    }
  }

  /** {@code lock(name)} waits for as long as the holder keeps the lock, then gets it with a higher token. */
  @Test
  void lockWaitsUntilTheHolderReleases() throws Exception {
    try (EtcdLocks a = locks(clientA); EtcdLocks b = locks(clientB)) {
      EtcdLock first = a.lock("queue");
      CompletableFuture<EtcdLock> next = CompletableFuture.supplyAsync(() -> b.lock("queue"));
      await().atMost(Duration.ofSeconds(10)).until(() -> clientA.getKVClient()
          .get(Etcd.bytes(EtcdLocks.DEFAULT_KEY_PREFIX + "queue/"),
              GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(2, TimeUnit.SECONDS).getCount() == 2);
      assertThat(next).isNotDone();
      assertThat(first.isHeld()).isTrue();
      first.close();
      try (EtcdLock second = next.get(10, TimeUnit.SECONDS)) {
        assertThat(second.isHeld()).isTrue();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
      }
    }
  }

  /** Closing {@link EtcdLocks} releases what it still holds at once (not after the 60 s lease). */
  @Test
  void closingTheLocksReleasesTheLocksStillHeld() throws Exception {
    EtcdLock forgotten;
    try (EtcdLocks a = EtcdLocks.builder(clientA).leaseTtl(Duration.ofSeconds(60)).build()) {
      forgotten = a.tryLock("forgotten", Duration.ofSeconds(5)).orElseThrow();
    }
    assertThat(forgotten.isHeld()).isFalse();
    assertThat(forgotten.lostReason()).isEmpty();
    try (EtcdLocks b = locks(clientB); EtcdLock next = b.tryLock("forgotten", Duration.ofSeconds(5)).orElseThrow()) {
      assertThat(next.fencingToken()).isGreaterThan(forgotten.fencingToken());
    }
  }

  /** The README's lock example, compiled and run. */
  @Test
  void theReadmeExample() throws Exception {
    Client client = clientA;
    try (Connection connection = MARIADB.newConnection(); Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE monthly_settlement (month VARCHAR(7) PRIMARY KEY, total BIGINT NOT NULL,"
          + " fence BIGINT NOT NULL DEFAULT 0)");
      s.execute("INSERT INTO monthly_settlement (month, total) VALUES ('2026-12', 0)");
      long total = 1234;
      String month = "2026-12";
      AtomicReference<String> stopped = new AtomicReference<>();
      Runnable stopWork = () -> stopped.set("stopped");
      // README: lock
      EtcdLocks locks = EtcdLocks.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
      Optional<EtcdLock> held = locks.tryLock("settlement:2026-12", Duration.ofSeconds(2));
      if (held.isPresent()) {
        try (EtcdLock lock = held.get().whenLost((l, why) -> stopWork.run())) {
          int rows = FencedWrite.update(connection, "monthly_settlement", "fence", "total = ?", "month = ?", lock,
              total, month);
          if (rows == 0) {
            throw new IllegalStateException("a later holder settled " + month + "; this one stops");
          }
        }
      }
      locks.close();
      // end README
      assertThat(held).isPresent();
      assertThat(stopped.get()).isNull();
      try (ResultSet r = s.executeQuery("SELECT total, fence FROM monthly_settlement")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong("total")).isEqualTo(1234);
        assertThat(r.getLong("fence")).isEqualTo(held.get().fencingToken());
      }
    }
  }

  /**
   * The getters the starter's metrics, health and endpoint read: {@code held()} lists the lock while
   * held and not after; acquisitions and their wait, ended holds and their time, and lost locks count
   * exactly what happened (one plain release, one revoked lease).
   */
  @Test
  void heldLocksAndCountsForMetrics() throws Exception {
    try (EtcdLocks a = locks(clientA)) {
      assertThat(a.held()).isEmpty();
      assertThat(a.acquisitions()).isZero();
      EtcdLock first = a.tryLock("counted", Duration.ofSeconds(5)).orElseThrow();
      assertThat(a.held()).containsExactly(first);
      assertThat(a.acquisitions()).isEqualTo(1);
      assertThat(a.acquireWaitTime()).isPositive();
      assertThat(a.holds()).isZero();
      first.close();
      assertThat(a.held()).isEmpty();
      assertThat(a.holds()).isEqualTo(1);
      Duration firstHold = a.holdTime();
      assertThat(firstHold).isPositive();
      assertThat(a.lostLocks()).isZero();

      EtcdLock second = a.tryLock("counted", Duration.ofSeconds(5)).orElseThrow();
      long lease = clientB.getKVClient().get(Etcd.bytes(second.key())).get(5, TimeUnit.SECONDS).getKvs().get(0)
          .getLease();
      clientB.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.lostLocks() == 1);
      assertThat(a.held()).isEmpty();
      assertThat(a.holds()).isEqualTo(2);
      assertThat(a.holdTime()).isGreaterThan(firstHold);
      assertThat(a.acquisitions()).isEqualTo(2);
      second.close();
      assertThat(a.holds()).as("closing a lost lock does not count its hold twice").isEqualTo(2);
    }
  }

  @Test
  void badArgumentsAreNamedWithTheirValue() {
    try (EtcdLocks locks = locks(clientA)) {
      assertThatThrownBy(() -> locks.tryLock(" ", Duration.ofSeconds(1)))
          .hasMessage("name must not be blank, but was \" \"");
      assertThatThrownBy(() -> locks.tryLock("x", Duration.ZERO)).hasMessageStartingWith("wait must be")
          .hasMessageContaining("but was 0");
    }
    assertThatThrownBy(() -> EtcdLocks.builder(clientA).leaseTtl(Duration.ofMillis(1500)))
        .hasMessage("leaseTtl must be whole seconds, at least 2s, but was 1500ms");
    assertThatThrownBy(() -> FencedWrite.sql("settlement; DROP TABLE x", "fence", "a = ?", "b = ?", 7))
        .hasMessageStartingWith("table must be a plain identifier");
    assertThatThrownBy(() -> FencedWrite.sql("settlement", "fence", "a = ?", "b = ?", 0))
        .hasMessage("fencingToken must be > 0, but was 0");
    assertThat(FencedWrite.sql("gift.settlement", "fence", "total = ?", "month = ?", 42))
        .isEqualTo("UPDATE gift.settlement SET total = ?, fence = 42 WHERE (month = ?) AND fence <= 42");
  }
}
