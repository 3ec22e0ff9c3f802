package io.giftkit.shard.id;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mariadb.jdbc.MariaDbDataSource;

/** Against real MariaDB; each test uses its own lease table in the class's throw-away database. */
class IdGeneratorTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  static HikariDataSource dataSource;

  @BeforeAll
  static void pool() {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(MARIADB.jdbcUrl());
    c.setUsername(MARIADB.user());
    c.setPassword(MARIADB.password());
    c.setMaximumPoolSize(8);
    c.setConnectionTimeout(5_000);
    dataSource = new HikariDataSource(c);
  }

  @AfterAll
  static void closePool() {
    dataSource.close();
  }

  static IdGenerator.Builder builder(String table) {
    return IdGenerator.builder(dataSource).table(table);
  }

  static IdGenerator started(IdGenerator.Builder b) {
    IdGenerator g = b.build();
    g.createTable();
    g.start();
    return g;
  }

  /** Each task gets its own thread; all start together; returns each task's ids in issue order. */
  static List<long[]> inThreads(List<IdGenerator> gens, int threadsEach, int idsEach) throws Exception {
    int threads = gens.size() * threadsEach;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<long[]>> futures = new ArrayList<>();
      for (IdGenerator g : gens) {
        for (int t = 0; t < threadsEach; t++) {
          Callable<long[]> task = () -> {
            long[] ids = new long[idsEach];
            go.await();
            for (int i = 0; i < idsEach; i++) {
              ids[i] = g.nextId();
            }
            return ids;
          };
          futures.add(pool.submit(task));
        }
      }
      go.countDown();
      List<long[]> out = new ArrayList<>();
      for (Future<long[]> f : futures) {
        out.add(f.get(2, TimeUnit.MINUTES));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  static void assertStrictlyIncreasing(long[] ids) {
    for (int i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) {
        throw new AssertionError("ids[" + i + "] = " + ids[i] + " is not above ids[" + (i - 1) + "] = " + ids[i - 1]);
      }
    }
  }

  static long[] concat(List<long[]> parts) {
    long[] all = new long[parts.stream().mapToInt(p -> p.length).sum()];
    int at = 0;
    for (long[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }

  static void assertAllDistinct(long[] ids) {
    long[] sorted = ids.clone();
    Arrays.sort(sorted);
    for (int i = 1; i < sorted.length; i++) {
      if (sorted[i] == sorted[i - 1]) {
        throw new AssertionError("duplicate id " + sorted[i] + " (worker " + IdGenerator.workerOf(sorted[i])
            + ", " + IdGenerator.timestampOf(sorted[i]) + ")");
      }
    }
  }

  static long max(long[] ids) {
    return Arrays.stream(ids).max().orElseThrow();
  }

  static long min(long[] ids) {
    return Arrays.stream(ids).min().orElseThrow();
  }

  static void sql(String statement) throws SQLException {
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  static long queryLong(String query) throws SQLException {
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
      assertThat(rs.next()).isTrue();
      return rs.getLong(1);
    }
  }

  @Test
  void readmeExample() {
    IdGenerator ids = IdGenerator.builder(dataSource)
        .table("giftkit_id_worker")
        .leaseDuration(Duration.ofSeconds(30))
        .reserveAhead(Duration.ofSeconds(10))
        .build();
    ids.createTable();
    ids.start();
    try {
      long orderId = ids.nextId();
      Instant createdAt = IdGenerator.timestampOf(orderId);   // route the order's month table by this
      assertThat(IdGenerator.workerOf(orderId)).isEqualTo(ids.workerId());
      assertThat(createdAt).isBetween(Instant.now().minusSeconds(5), ids.reservedUntil());
    } finally {
      ids.close();
    }
  }

  @Test
  void layoutIs41BitsOfMillisSince2026Then10BitsWorkerThen12BitsSequence() {
    assertThat(IdGenerator.EPOCH).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    long id = (12_345L << 22) | (1023L << 12) | 4095L;
    assertThat(IdGenerator.timestampOf(id)).isEqualTo(IdGenerator.EPOCH.plusMillis(12_345));
    assertThat(IdGenerator.workerOf(id)).isEqualTo(1023);
    assertThat(IdGenerator.sequenceOf(id)).isEqualTo(4095);
    long last = Long.MAX_VALUE; // the largest timestamp: 2^41 - 1 ms after the epoch, in 2095
    assertThat(IdGenerator.timestampOf(last)).isEqualTo(IdGenerator.EPOCH.plusMillis((1L << 41) - 1));
    assertThat(IdGenerator.timestampOf(last)).isAfter(Instant.parse("2095-01-01T00:00:00Z"));
    assertThatThrownBy(() -> IdGenerator.timestampOf(-1))
        .isInstanceOf(InvalidConfigException.class).hasMessage("id must be >= 0, but was -1");
  }

  @Test
  void eightThreadsGetDistinctStrictlyIncreasingIdsTimedInTheRun() throws Exception {
    IdGenerator g = started(builder("ids_stress"));
    try {
      long before = System.currentTimeMillis();
      List<long[]> perThread = inThreads(List.of(g), 8, 200_000);
      long after = System.currentTimeMillis();
      perThread.forEach(IdGeneratorTest::assertStrictlyIncreasing);
      long[] all = concat(perThread);
      assertThat(all).hasSize(1_600_000);
      assertAllDistinct(all);
      assertThat(g.issued()).isEqualTo(1_600_000);
      for (long id : new long[] {min(all), max(all)}) {
        assertThat(id).isPositive();
        assertThat(IdGenerator.workerOf(id)).isEqualTo(g.workerId());
      }
      // Never before the clock said; ahead of it only by borrowing, and never beyond the reservation.
      assertThat(IdGenerator.timestampOf(min(all)).toEpochMilli()).isGreaterThanOrEqualTo(before);
      assertThat(IdGenerator.timestampOf(max(all)))
          .isBefore(Instant.ofEpochMilli(after).plus(IdGenerator.DEFAULT_RESERVE_AHEAD).plusMillis(1))
          .isBeforeOrEqualTo(g.reservedUntil());
    } finally {
      g.close();
    }
  }

  @Test
  void twoInstancesOnOneTableHaveDifferentWorkersAndNoDuplicates() throws Exception {
    IdGenerator a = started(builder("ids_two").owner("instance-a"));
    IdGenerator b = started(builder("ids_two").owner("instance-b"));
    try {
      assertThat(a.workerId()).isNotEqualTo(b.workerId());
      List<long[]> perThread = inThreads(List.of(a, b), 4, 100_000);
      perThread.forEach(IdGeneratorTest::assertStrictlyIncreasing);
      long[] all = concat(perThread);
      assertThat(all).hasSize(800_000);
      assertAllDistinct(all);
      assertThat(IdGenerator.workerOf(perThread.get(0)[0])).isEqualTo(a.workerId());
      assertThat(IdGenerator.workerOf(perThread.get(4)[0])).isEqualTo(b.workerId());
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void sixteenInstancesStartingAtOnceClaimSixteenDifferentWorkers() throws Exception {
    builder("ids_race").build().createTable();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<IdGenerator> gens = new ArrayList<>();
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<IdGenerator>> futures = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        futures.add(pool.submit(() -> {
          IdGenerator g = builder("ids_race").build();
          go.await();
          g.createTable(); // racing createTable calls too
          g.start();
          return g;
        }));
      }
      go.countDown();
      for (Future<IdGenerator> f : futures) {
        gens.add(f.get(1, TimeUnit.MINUTES));
      }
      Set<Integer> workers = new HashSet<>();
      gens.forEach(g -> workers.add(g.workerId()));
      assertThat(workers).hasSize(16);
      assertThat(queryLong("SELECT COUNT(*) FROM ids_race")).isEqualTo(1024);
      assertThat(queryLong("SELECT COUNT(*) FROM ids_race WHERE owner IS NOT NULL")).isEqualTo(16);
    } finally {
      pool.shutdownNow();
      gens.forEach(IdGenerator::close);
    }
    assertThat(queryLong("SELECT COUNT(*) FROM ids_race WHERE owner IS NOT NULL")).isZero();
  }

  @Test
  void afterARestartTheSameWorkerIssuesOnlyAboveWhatTheLastHolderIssued() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    IdGenerator a = started(builder("ids_restart").clock(clock).withoutBackgroundRenewal());
    long[] fromA = inThreads(List.of(a), 2, 50_000).stream().flatMapToLong(Arrays::stream).toArray();
    int worker = a.workerId();
    a.close();
    // The row is free again and keeps A's high-water mark.
    assertThat(queryLong("SELECT COUNT(*) FROM ids_restart WHERE worker_id = " + worker + " AND owner IS NULL")).isOne();
    assertThat(queryLong("SELECT reserved_until FROM ids_restart WHERE worker_id = " + worker))
        .isGreaterThanOrEqualTo(IdGenerator.timestampOf(max(fromA)).toEpochMilli());

    // The restarted process's clock is an hour behind: the row's high-water mark still rules.
    clock.step(Duration.ofHours(-1));
    IdGenerator b = started(builder("ids_restart").clock(clock).withoutBackgroundRenewal());
    try {
      assertThat(b.workerId()).isEqualTo(worker);
      long[] fromB = inThreads(List.of(b), 2, 50_000).stream().flatMapToLong(Arrays::stream).toArray();
      assertThat(min(fromB)).isGreaterThan(max(fromA));
      assertThat(IdGenerator.timestampOf(min(fromB))).isAfter(IdGenerator.timestampOf(max(fromA)));
    } finally {
      b.close();
    }
  }

  @Test
  void afterACrashTheNextHolderStartsAboveTheCrashedOnesReservation() {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    IdGenerator.Builder shortLease = builder("ids_crash").clock(clock)
        .leaseDuration(Duration.ofSeconds(3)).withoutBackgroundRenewal();
    IdGenerator crashed = started(shortLease);
    long last = 0;
    for (int i = 0; i < 10_000; i++) {
      last = crashed.nextId();
    }
    Instant reservation = crashed.reservedUntil();
    // No close(): the process "died". Its lease (3 s) expires; its reservation (10 s) has not run out.
    clock.step(Duration.ofSeconds(4));
    assertThat(clock.instant()).isBefore(reservation);
    IdGenerator next = started(shortLease);
    try {
      assertThat(next.workerId()).isEqualTo(crashed.workerId());
      long first = next.nextId();
      assertThat(first).isGreaterThan(last);
      assertThat(IdGenerator.timestampOf(first)).isAfter(reservation);
    } finally {
      next.close();
    }
  }

  @Test
  void aClockSteppingBackAnHourKeepsIdsUniqueAndIncreasing() {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    IdGenerator g = started(builder("ids_clock_back").clock(clock).withoutBackgroundRenewal());
    try {
      long[] ids = new long[300_000];
      for (int i = 0; i < 100_000; i++) {
        ids[i] = g.nextId();
        if (i % 10_000 == 0) {
          clock.step(Duration.ofMillis(3));
        }
      }
      Instant beforeStep = IdGenerator.timestampOf(ids[99_999]);
      clock.step(Duration.ofHours(-1));
      for (int i = 100_000; i < 300_000; i++) {
        ids[i] = g.nextId();
        if (i % 10_000 == 0) {
          clock.step(Duration.ofMillis(3));
          assertThat(g.renewOnce()).as("renewal with the clock an hour back").isTrue();
        }
      }
      assertStrictlyIncreasing(ids);
      assertAllDistinct(ids);
      // Logical time kept going from where it was (by borrowing sequence), not from the clock.
      assertThat(IdGenerator.timestampOf(ids[299_999])).isAfterOrEqualTo(beforeStep)
          .isBeforeOrEqualTo(g.reservedUntil());
      assertThat(g.renewalFailures()).isZero();
    } finally {
      g.close();
    }
  }

  @Test
  void aTakeoverAfterTheLeaseExpiredStartsAboveTheOldReservationAndTheOldHolderStops() {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    IdGenerator a = started(builder("ids_takeover").owner("a").clock(clock)
        .leaseDuration(Duration.ofSeconds(3)).withoutBackgroundRenewal());
    IdGenerator b = null;
    try {
      List<Long> fromA = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        fromA.add(a.nextId());
      }
      assertThat(a.renewOnce()).isTrue();
      Instant aReservation = a.reservedUntil();
      assertThat(aReservation).isEqualTo(clock.instant().plus(IdGenerator.DEFAULT_RESERVE_AHEAD));

      // A is "paused": it does not renew. Its lease (3 s) expires; B takes the same worker id over.
      clock.step(Duration.ofSeconds(4));
      b = started(builder("ids_takeover").owner("b").clock(clock).withoutBackgroundRenewal());
      assertThat(b.workerId()).isEqualTo(a.workerId());
      List<Long> fromB = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        fromB.add(b.nextId());
      }

      // A wakes up: its renewal fails because the row's owner changed ...
      assertThat(a.renewOnce()).isFalse();
      assertThat(a.renewalFailures()).isEqualTo(1);
      // ... it may still issue inside the reservation it wrote (B starts above it) ...
      for (int i = 0; i < 1000; i++) {
        fromA.add(a.nextId());
      }
      // ... and stops once past it instead of issuing ids B may issue.
      clock.set(aReservation.plusMillis(1));
      assertThatThrownBy(a::nextId)
          .isInstanceOf(IdGeneratorUnavailableException.class)
          .hasMessageContaining("table ids_takeover")
          .hasMessageContaining("worker " + a.workerId())
          .hasMessageContaining("taken over");
      for (int i = 0; i < 1000; i++) {
        fromB.add(b.nextId());
      }

      long maxA = fromA.stream().mapToLong(Long::longValue).max().orElseThrow();
      assertThat(IdGenerator.timestampOf(maxA)).isBeforeOrEqualTo(aReservation);
      for (long id : fromB) {
        assertThat(IdGenerator.timestampOf(id)).isAfter(aReservation);
        assertThat(id).isGreaterThan(maxA);
      }
      // A's close cannot free the row B holds.
      a.close();
      assertThat(b.renewOnce()).isTrue();
    } finally {
      a.close();
      if (b != null) {
        b.close();
      }
    }
  }

  @Test
  void whenTheDatabaseIsUnreachableNextIdStopsAtTheReservationInsteadOfRisking() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(MARIADB.jdbcUrl());
    c.setUsername(MARIADB.user());
    c.setPassword(MARIADB.password());
    c.setMaximumPoolSize(2);
    c.setConnectionTimeout(1_000);
    try (HikariDataSource own = new HikariDataSource(c)) {
      IdGenerator g = IdGenerator.builder(own).table("ids_db_down").clock(clock).withoutBackgroundRenewal().build();
      g.createTable();
      g.start();
      try {
        long id = g.nextId();
        Instant reservation = g.reservedUntil();
        own.close(); // the lease table's database is gone for this generator
        clock.step(Duration.ofSeconds(5));
        assertThat(g.renewOnce()).isFalse();
        assertThat(g.renewalFailures()).isEqualTo(1);
        assertThat(g.nextId()).isGreaterThan(id); // still inside the reservation
        clock.set(reservation.plusMillis(1));
        assertThatThrownBy(g::nextId)
            .isInstanceOf(IdGeneratorUnavailableException.class)
            .hasMessageContaining("table ids_db_down")
            .hasMessageContaining("past the reservation");
        assertThat(g.renewalFailures()).isEqualTo(2);
      } finally {
        g.close();
      }
    }
  }

  @Test
  void theReservationIsExtendedInTheBackgroundAndSynchronouslyWhenTheClockJumps() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2026-11-27T10:00:00Z"));
    IdGenerator g = started(builder("ids_renew").clock(clock).withoutBackgroundRenewal());
    try {
      g.nextId();
      clock.step(Duration.ofMinutes(5)); // far past the 10 s reservation
      long id = g.nextId();               // extends once, synchronously
      assertThat(IdGenerator.timestampOf(id)).isEqualTo(clock.instant());
      assertThat(g.reservedUntil()).isEqualTo(clock.instant().plus(IdGenerator.DEFAULT_RESERVE_AHEAD));
      assertThat(g.renewals()).isEqualTo(1);
      assertThat(queryLong("SELECT reserved_until FROM ids_renew WHERE worker_id = " + g.workerId()))
          .isEqualTo(g.reservedUntil().toEpochMilli());
    } finally {
      g.close();
    }
    IdGenerator bg = started(builder("ids_renew").leaseDuration(Duration.ofMillis(300)));
    try {
      // Real time: the daemon thread renews every 100 ms (lease / 3).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (bg.renewals() < 3 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
        bg.nextId();
      }
      assertThat(bg.renewals()).isGreaterThanOrEqualTo(3);
      assertThat(queryLong("SELECT lease_until FROM ids_renew WHERE worker_id = " + bg.workerId()))
          .isGreaterThan(System.currentTimeMillis() - 1_000);
    } finally {
      bg.close();
    }
  }

  @Test
  void startFailsNamingTheTableWhenAll1024WorkersAreHeld() throws SQLException {
    IdGenerator g = builder("ids_full").build();
    g.createTable();
    sql("UPDATE ids_full SET owner = 'someone-else', lease_until = " + (System.currentTimeMillis() + 3_600_000));
    assertThatThrownBy(g::start)
        .isInstanceOf(IdGeneratorUnavailableException.class)
        .hasMessageContaining("cannot claim a worker id from table ids_full")
        .hasMessageContaining("all 1024 worker ids are leased");
    assertThat(((IdGeneratorUnavailableException) catchStart(g)).table()).isEqualTo("ids_full");
    assertThatThrownBy(g::nextId).isInstanceOf(IllegalStateException.class).hasMessageContaining("not started");
  }

  static RuntimeException catchStart(IdGenerator g) {
    try {
      g.start();
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("start() succeeded");
  }

  @Test
  void startFailsNamingTheTableWhenItIsMissingOrTheDatabaseIsDown() throws SQLException {
    assertThatThrownBy(() -> builder("ids_never_created").build().start())
        .isInstanceOf(IdGeneratorUnavailableException.class)
        .hasMessageContaining("cannot claim a worker id from table ids_never_created")
        .hasCauseInstanceOf(SQLException.class);
    MariaDbDataSource down = new MariaDbDataSource("jdbc:mariadb://127.0.0.1:1/nowhere?connectTimeout=1000");
    assertThatThrownBy(() -> IdGenerator.builder(down).build().start())
        .isInstanceOf(IdGeneratorUnavailableException.class)
        .hasMessageContaining("cannot claim a worker id from table giftkit_id_worker")
        .hasCauseInstanceOf(SQLException.class);
  }

  @Test
  void closeIsIdempotentAndNextIdAfterCloseFails() {
    IdGenerator g = started(builder("ids_close"));
    g.nextId();
    g.close();
    g.close();
    assertThatThrownBy(g::nextId).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(g::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void builderRejectsBadInputNamingTheParameterAndValue() {
    assertThatThrownBy(() -> IdGenerator.builder(null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("dataSource must not be null, but was null");
    IdGenerator.Builder b = IdGenerator.builder(dataSource);
    assertThatThrownBy(() -> b.table("gift-ids"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("table must be letters, digits and '_', 1 to 64 characters, but was \"gift-ids\"");
    assertThatThrownBy(() -> b.table("x".repeat(65))).hasMessageStartingWith("table must be letters");
    assertThatThrownBy(() -> b.table(null)).hasMessage("table must not be null, but was null");
    assertThatThrownBy(() -> b.owner(" ")).hasMessage("owner must not be blank, but was \" \"");
    assertThatThrownBy(() -> b.owner("o".repeat(129))).hasMessageStartingWith("owner must be at most 128 characters, but was \"ooo");
    assertThatThrownBy(() -> b.leaseDuration(Duration.ZERO)).hasMessage("leaseDuration must be positive, but was 0ms");
    assertThatThrownBy(() -> b.leaseDuration(null)).hasMessage("leaseDuration must not be null, but was null");
    assertThatThrownBy(() -> b.leaseDuration(Duration.ofNanos(1_500_000)))
        .hasMessage("leaseDuration must be a whole number of milliseconds, but was 1500us");
    assertThatThrownBy(() -> b.leaseDuration(Duration.ofDays(2))).hasMessage("leaseDuration must be at most 1d, but was 2d");
    assertThatThrownBy(() -> b.reserveAhead(Duration.ofSeconds(-1))).hasMessage("reserveAhead must be positive, but was -1s");
    assertThatThrownBy(() -> b.reserveAhead(Duration.ofHours(2))).hasMessage("reserveAhead must be at most 1h, but was 2h");
    assertThatThrownBy(() -> b.clock(null)).hasMessage("clock must not be null, but was null");
    assertThat(IdGenerator.builder(dataSource).build().owner()).matches(".+:\\d+:[0-9a-f]+");
  }
}
