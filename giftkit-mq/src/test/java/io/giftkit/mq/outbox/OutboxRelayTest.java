package io.giftkit.mq.outbox;

import static io.giftkit.mq.outbox.OutboxTestSupport.readAll;
import static io.giftkit.mq.outbox.OutboxTestSupport.readUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.InvalidConfigException;
import io.giftkit.mq.TestPools;
import io.giftkit.testing.KafkaBroker;
import io.giftkit.testing.MariaDbExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Against a real MariaDB and a real KRaft broker. */
class OutboxRelayTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static final KafkaBroker KAFKA = KafkaBroker.shared();
  static final List<HikariDataSource> POOLS = new ArrayList<>();
  private final List<OutboxRelay> relays = new ArrayList<>();

  @BeforeAll
  static void checkServer() {
    MARIADB.database();
  }

  @AfterAll
  static void closePools() {
    POOLS.forEach(HikariDataSource::close);
  }

  @AfterEach
  void closeRelays() {
    relays.forEach(OutboxRelay::close);
    POOLS.forEach(HikariDataSource::close); // each test's pools go with it: the server's connections are shared
    POOLS.clear();
  }

  /** A fresh database (a shard) with its own outbox table. */
  private static HikariDataSource shard(Outbox outbox, String label) throws SQLException {
    String db = MARIADB.createDatabase(label);
    com.zaxxer.hikari.HikariConfig c = new com.zaxxer.hikari.HikariConfig();
    c.setJdbcUrl(MARIADB.jdbcUrl(db));
    c.setUsername(MARIADB.user());
    c.setPassword(MARIADB.password());
    c.setMaximumPoolSize(10);
    c.setMinimumIdle(1);
    HikariDataSource ds = new HikariDataSource(c);
    POOLS.add(ds);
    outbox.createTable(ds);
    return ds;
  }

  private static Map<String, Object> kafka() {
    return Map.of("bootstrap.servers", KAFKA.bootstrapServers());
  }

  private OutboxRelay started(OutboxRelay.Builder b) {
    OutboxRelay relay = b.pollInterval(Duration.ofMillis(50)).build();
    relays.add(relay);
    relay.start();
    return relay;
  }

  private static void addCommitted(DataSource ds, Outbox outbox, String topic, int from, int to) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      for (int i = from; i < to; i++) {
        outbox.add(c, topic, "k" + i, ("v" + i).getBytes(StandardCharsets.UTF_8));
      }
      c.commit();
    }
  }

  private static long rows(DataSource ds, String table) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Map<String, Long> countByKey(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().collect(Collectors.groupingBy(r -> new String(r.key(), StandardCharsets.UTF_8),
        Collectors.counting()));
  }

  @Test
  void committedRowsArePublishedWithKeyAndHeadersAndDeletedAndRolledBackRowsNeverAre() throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource ds = shard(outbox, "basic");
    String topic = KAFKA.createTopic("outbox-basic", 1);
    byte[] big = new byte[900_000]; // a large event fits the table's binary column
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) i;
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.add(c, topic, "rolled-back", "never".getBytes(StandardCharsets.UTF_8));
      c.rollback();
      Map<String, byte[]> headers = new LinkedHashMap<>();
      headers.put("giftkit-site", "a".getBytes(StandardCharsets.UTF_8));
      headers.put("empty", new byte[0]);
      headers.put("null-value", null);
      outbox.add(c, topic, "order-1", "gift 1".getBytes(StandardCharsets.UTF_8), headers);
      outbox.add(c, topic, null, big);
      c.commit();
    }
    OutboxRelay relay = started(OutboxRelay.builder("basic", outbox).source("shard-0", ds).producerConfig(kafka()));
    relay.wakeUp("shard-0");
    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 2, Duration.ofSeconds(2));

    assertThat(got).hasSize(2);
    ConsumerRecord<byte[], byte[]> first = got.get(0);
    assertThat(new String(first.key(), StandardCharsets.UTF_8)).isEqualTo("order-1");
    assertThat(new String(first.value(), StandardCharsets.UTF_8)).isEqualTo("gift 1");
    Header[] h = first.headers().toArray();
    assertThat(h).extracting(Header::key).containsExactly("giftkit-site", "empty", "null-value");
    assertThat(h[0].value()).isEqualTo("a".getBytes(StandardCharsets.UTF_8));
    assertThat(h[1].value()).isEmpty();
    assertThat(h[2].value()).isNull();
    assertThat(got.get(1).key()).isNull();
    assertThat(got.get(1).value()).isEqualTo(big);
    await().atMost(Duration.ofSeconds(10)).until(() -> rows(ds, outbox.table()) == 0);
    assertThat(relay.published()).isEqualTo(2);
    assertThat(relay.pending()).isZero();
    assertThat(relay.sendFailures() + relay.databaseErrors() + relay.parked()).isZero();
    assertThatThrownBy(() -> relay.wakeUp("shard-9")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source must be one of [shard-0]").hasMessageContaining("shard-9");
  }

  @Test
  void threeShardsEightWritersTwoThousandRowsArriveExactlyOnceAndTheTablesEmpty() throws Exception {
    Outbox outbox = Outbox.builder().table("gift_outbox").build();
    List<HikariDataSource> shards = List.of(shard(outbox, "s0"), shard(outbox, "s1"), shard(outbox, "s2"));
    String topic = KAFKA.createTopic("outbox-stress", 3);
    OutboxRelay.Builder b = OutboxRelay.builder("stress", outbox).producerConfig(kafka()).batchSize(50);
    for (int i = 0; i < shards.size(); i++) {
      b.source("shard-" + i, shards.get(i));
    }
    OutboxRelay relay = started(b);

    int writers = 8;
    int perWriter = 250;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      done.add(pool.submit((Callable<Void>) () -> {
        go.await();
        for (int i = 0; i < perWriter; i++) {
          int shard = (writer + i) % shards.size(); // uid % N style routing
          try (Connection c = shards.get(shard).getConnection()) {
            c.setAutoCommit(false);
            outbox.add(c, topic, "w" + writer + "-" + i, ("gift " + writer + "/" + i).getBytes(StandardCharsets.UTF_8));
            if (i % 10 == 0) { // a rolled-back order's event must never appear
              outbox.add(c, topic, "rolled-back-" + writer + "-" + i, new byte[] {1});
              c.rollback();
              outbox.add(c, topic, "w" + writer + "-" + i, ("gift " + writer + "/" + i).getBytes(StandardCharsets.UTF_8));
            }
            c.commit();
          }
          relay.wakeUp("shard-" + shard);
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 2_000, Duration.ofSeconds(3));
    Map<String, Long> byKey = countByKey(got);
    assertThat(byKey).hasSize(2_000).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1L));
    assertThat(byKey.keySet()).noneMatch(k -> k.startsWith("rolled-back"));
    assertThat(got).hasSize(2_000);
    for (HikariDataSource ds : shards) {
      await().atMost(Duration.ofSeconds(10)).until(() -> rows(ds, outbox.table()) == 0);
    }
    assertThat(relay.published()).isEqualTo(2_000);
    assertThat(relay.pending()).isZero();
  }

  @Test
  void aBrokerOutageNeitherFailsNorBlocksWritersAndDoesNotSpinThenEverythingIsPublished() throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource ds = shard(outbox, "outage");
    String topic = KAFKA.createTopic("outbox-outage", 1);
    Map<String, Object> unreachable = Map.of("bootstrap.servers", "127.0.0.1:" + OutboxTestSupport.closedPort(),
        "max.block.ms", 500, "delivery.timeout.ms", 1_000, "request.timeout.ms", 500, "linger.ms", 0);
    OutboxRelay down = started(OutboxRelay.builder("outage", outbox).source("s", ds).producerConfig(unreachable)
        .maxAttempts(1)); // even at one attempt an outage must never park a row

    long start = System.nanoTime();
    for (int i = 0; i < 10; i++) {
      addCommitted(ds, outbox, topic, i * 10, i * 10 + 10);
      down.wakeUp("s");
    }
    long writeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(writeMillis).as("100 rows in 10 transactions, not held up by the broker").isLessThan(5_000);

    await().atMost(Duration.ofSeconds(10)).until(() -> down.sendFailures() > 0);
    long failuresBefore = down.sendFailures();
    // Over 5 s with 500 ms metadata waits and a back-off doubling from 200 ms to 5 s, a relay that does
    // not spin makes a handful of attempts (one failed row each: the rest of the batch waits behind it).
    await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(6))
        .until(() -> down.sendFailures() - failuresBefore <= 10);
    assertThat(down.pending()).isEqualTo(100);
    assertThat(rows(ds, outbox.table())).isEqualTo(100);
    assertThat(down.parked()).isZero();
    assertThat(down.published()).isZero();
    down.close();

    OutboxRelay up = started(OutboxRelay.builder("outage", outbox).source("s", ds).producerConfig(kafka()));
    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 100, Duration.ofSeconds(2));
    assertThat(countByKey(got)).hasSize(100).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1L));
    await().atMost(Duration.ofSeconds(10)).until(() -> up.pending() == 0);
    assertThat(up.published()).isEqualTo(100);
  }

  @Test
  void perBatchTheOwnerReadsOnceAndDeletesOnceWithNoClaimAndTakesTheTableWithOneStatement() throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource ds = shard(outbox, "statements");
    String topic = KAFKA.createTopic("outbox-statements", 1);
    java.util.Queue<String> sql = new java.util.concurrent.ConcurrentLinkedQueue<>();
    OutboxRelay relay = started(OutboxRelay.builder("counted", outbox)
        .source("s", OutboxTestSupport.recording(ds, sql)).producerConfig(kafka()));
    await().atMost(Duration.ofSeconds(10)).until(() -> owners(ds, outbox).size() == 1);
    for (int i = 0; i < 20; i++) { // one row per batch: each commit wakes the relay, which sends it alone
      addCommitted(ds, outbox, topic, i, i + 1);
      relay.wakeUp("s");
      int sent = i + 1;
      await().atMost(Duration.ofSeconds(10)).until(() -> relay.published() == sent && rows(ds, outbox.table()) == 0);
    }
    List<String> all = List.copyOf(sql);
    String owner = outbox.ownerTable();
    assertThat(all).filteredOn(q -> q.startsWith("DELETE FROM " + outbox.table() + " ")).hasSize(20);
    assertThat(all).as("no claim: the outbox rows are never updated on the way")
        .noneMatch(q -> q.startsWith("UPDATE " + outbox.table() + " "));
    assertThat(all).as("the ownership: taken once (an update that found no row, then the insert), not renewed"
        + " within half the 30 s lease").filteredOn(q -> q.contains(" " + owner + " ")).hasSize(2);
    assertThat(all).as("everything else is the look for due rows, payloads included")
        .filteredOn(q -> !q.startsWith("DELETE") && !q.contains(" " + owner + " "))
        .allMatch(q -> q.startsWith("SELECT id, topic, msg_key, payload, headers, attempts FROM " + outbox.table()));
  }

  @Test
  void twoRelaysOnTheSameTablesPublishEveryRowWithoutDuplicatesAndAStandByTakesOverAClosedOwnersTables()
      throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource s0 = shard(outbox, "two0");
    HikariDataSource s1 = shard(outbox, "two1");
    String topic = KAFKA.createTopic("outbox-two", 2);
    addCommitted(s0, outbox, topic, 0, 600);
    addCommitted(s1, outbox, topic, 600, 1_200);
    // A 2 s lease: a stand-by looks every 200 ms.
    OutboxRelay ra = OutboxRelay.builder("instance-a", outbox).source("s0", s0).source("s1", s1)
        .producerConfig(kafka()).batchSize(20).lease(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50)).build();
    OutboxRelay rb = OutboxRelay.builder("instance-b", outbox).source("s0", s0).source("s1", s1)
        .producerConfig(kafka()).batchSize(20).lease(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50)).build();
    relays.add(ra);
    relays.add(rb);
    ra.start();
    rb.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> ra.published() + rb.published() >= 1_200
        && ra.pending() == 0);
    assertThat(ra.published() + rb.published()).isEqualTo(1_200);
    assertThat(owners(s0, outbox)).as("one relay owns each table").hasSize(1);
    assertThat(owners(s1, outbox)).as("one relay owns each table").hasSize(1);
    // The owner renews its 2 s lease (at half of it) while the stand-by looks every 200 ms: it keeps the table.
    String firstOwner = owners(s0, outbox).get(0);
    long firstUntil = leaseUntil(s0, outbox);
    await().atMost(Duration.ofSeconds(20)).until(() -> leaseUntil(s0, outbox) > firstUntil + 3_000);
    assertThat(owners(s0, outbox)).containsExactly(firstOwner);

    // The owner of s0 closes: it releases its tables, and the other relay publishes what comes next.
    OutboxRelay owner = owners(s0, outbox).get(0).startsWith("instance-a") ? ra : rb;
    OutboxRelay standBy = owner == ra ? rb : ra;
    long before = standBy.published();
    owner.close();
    assertThat(owners(s0, outbox)).as("a closing owner releases its tables at once, not at its lease's end")
        .allMatch(o -> o.startsWith(standBy.name()));
    addCommitted(s0, outbox, topic, 1_200, 1_300);
    addCommitted(s1, outbox, topic, 1_300, 1_400);
    await().atMost(Duration.ofSeconds(20)).until(() -> standBy.published() - before == 200);
    assertThat(owners(s0, outbox)).singleElement().asString().startsWith(standBy.name());
    assertThat(owners(s1, outbox)).singleElement().asString().startsWith(standBy.name());
    assertThat(standBy.pending()).isZero();

    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 1_400, Duration.ofSeconds(2));
    Map<String, Long> byKey = countByKey(got);
    assertThat(byKey).hasSize(1_400);
    assertThat(got.size() - byKey.size()).as("one owner per table while no relay fails: no duplicates").isZero();
  }

  @Test
  void sixRelaysStartedAtOnceOnThreeTablesHaveOneOwnerPerTableAndPublishEveryRowOnce() throws Exception {
    Outbox outbox = Outbox.builder().build();
    List<HikariDataSource> shards = List.of(shard(outbox, "six0"), shard(outbox, "six1"), shard(outbox, "six2"));
    String topic = KAFKA.createTopic("outbox-six", 3);
    for (int s = 0; s < 3; s++) {
      addCommitted(shards.get(s), outbox, topic, s * 500, s * 500 + 500);
    }
    List<OutboxRelay> six = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      OutboxRelay.Builder b = OutboxRelay.builder("instance-" + i, outbox).producerConfig(kafka()).batchSize(25)
          .pollInterval(Duration.ofMillis(20));
      for (int s = 0; s < 3; s++) {
        b.source("s" + s, shards.get(s));
      }
      OutboxRelay r = b.build();
      relays.add(r);
      six.add(r);
    }
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<Thread> starters = new ArrayList<>();
    for (OutboxRelay r : six) { // each start on its own thread, released together: the owner rows race
      Thread t = new Thread(() -> {
        try {
          go.await();
          r.start();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      t.start();
      starters.add(t);
    }
    go.countDown();
    for (Thread t : starters) {
      t.join();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> six.stream().mapToLong(OutboxRelay::published).sum() >= 1_500
        && six.get(0).pending() == 0);
    for (HikariDataSource ds : shards) {
      assertThat(owners(ds, outbox)).as("one relay owns each table").hasSize(1);
    }
    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 1_500, Duration.ofSeconds(2));
    Map<String, Long> byKey = countByKey(got);
    assertThat(byKey).hasSize(1_500);
    assertThat(got.size() - byKey.size()).as("no duplicates").isZero();
    assertThat(six.stream().mapToLong(OutboxRelay::published).sum()).isEqualTo(1_500);
  }

  @Test
  void aKilledOwnersTableIsTakenOverWhenItsLeaseEndsAndItsUnacknowledgedRowsArePublishedAtLeastOnce()
      throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource ds = shard(outbox, "killed");
    String topic = KAFKA.createTopic("outbox-killed", 1);
    addCommitted(ds, outbox, topic, 0, 100);
    // An owner with a 3 s lease read the first 50 rows, sent 20 of them (the broker acknowledged
    // them), and was killed (kill -9) before deleting anything: what it leaves in the tables.
    OutboxTable table = new OutboxTable(ds, outbox);
    long now = System.currentTimeMillis();
    long leaseEnd = now + 3_000;
    assertThat(table.own("killed-relay", now, leaseEnd)).isTrue();
    List<OutboxTable.Row> read = table.due(now, 50);
    assertThat(read).hasSize(50);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(),
        "key.serializer", ByteArraySerializer.class, "value.serializer", ByteArraySerializer.class))) {
      for (OutboxTable.Row row : read.subList(0, 20)) {
        p.send(new ProducerRecord<>(topic, row.key().getBytes(StandardCharsets.UTF_8), row.payload())).get();
      }
    }

    OutboxRelay next = started(OutboxRelay.builder("restarted", outbox).source("s", ds).producerConfig(kafka())
        .lease(Duration.ofSeconds(2)));
    await().atMost(Duration.ofSeconds(15)).until(() -> next.published() > 0);
    assertThat(System.currentTimeMillis()).as("nothing is published while the killed owner's lease runs")
        .isGreaterThanOrEqualTo(leaseEnd);
    await().atMost(Duration.ofSeconds(15)).until(() -> next.pending() == 0);
    assertThat(owners(ds, outbox)).singleElement().asString().startsWith("restarted-");
    List<ConsumerRecord<byte[], byte[]>> got = readAll(KAFKA, topic, 120, Duration.ofSeconds(2));
    Map<String, Long> byKey = countByKey(got);
    assertThat(byKey).hasSize(100);
    Map<String, Long> twice = new HashMap<>(byKey);
    twice.values().removeIf(n -> n == 1);
    assertThat(twice.keySet()).as("at least once: the 20 sent before the kill come again, nothing else")
        .containsExactlyInAnyOrderElementsOf(read.subList(0, 20).stream().map(OutboxTable.Row::key).toList());
    assertThat(next.published()).isEqualTo(100);
  }

  private static long leaseUntil(DataSource ds, Outbox outbox) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT lease_until FROM " + outbox.ownerTable()); ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /** The owner table's {@code owned_by} values whose lease has not ended. */
  private static List<String> owners(DataSource ds, Outbox outbox) throws SQLException {
    List<String> owners = new ArrayList<>();
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT owned_by FROM " + outbox.ownerTable() + " WHERE lease_until > ?")) {
      ps.setLong(1, System.currentTimeMillis());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          owners.add(rs.getString(1));
        }
      }
    }
    return owners;
  }

  @Test
  void anOutboxWithoutItsOwnerTableIsNamedAsSuchAndPublishedOnceTheTableIsCreated() throws Exception {
    Outbox outbox = Outbox.builder().build();
    String db = MARIADB.createDatabase("no_owner");
    com.zaxxer.hikari.HikariConfig c = new com.zaxxer.hikari.HikariConfig();
    c.setJdbcUrl(MARIADB.jdbcUrl(db));
    c.setUsername(MARIADB.user());
    c.setPassword(MARIADB.password());
    c.setMaximumPoolSize(4);
    HikariDataSource ds = new HikariDataSource(c);
    POOLS.add(ds);
    try (Connection conn = ds.getConnection(); java.sql.Statement st = conn.createStatement()) {
      st.execute(outbox.ddl()); // an outbox made before the owner table existed
    }
    String topic = KAFKA.createTopic("outbox-no-owner", 1);
    addCommitted(ds, outbox, topic, 0, 10);
    OutboxTable table = new OutboxTable(ds, outbox);
    assertThatThrownBy(() -> table.own("t", 0, 1)).isInstanceOf(SQLException.class)
        .hasMessageContaining("owner table giftkit_outbox_owner does not exist")
        .hasMessageContaining("Outbox.createTable").hasMessageContaining("Outbox.ownerDdl()");
    OutboxRelay relay = started(OutboxRelay.builder("old-schema", outbox).source("s", ds).producerConfig(kafka()));
    await().atMost(Duration.ofSeconds(10)).until(() -> relay.databaseErrors() > 0);
    assertThat(relay.published()).isZero();
    assertThat(rows(ds, outbox.table())).isEqualTo(10);

    outbox.createTable(ds); // the migration: the outbox table is left as it is, the owner table added
    await().atMost(Duration.ofSeconds(20)).until(() -> relay.published() == 10 && rows(ds, outbox.table()) == 0);
    assertThat(countByKey(readAll(KAFKA, topic, 10, Duration.ofSeconds(1)))).hasSize(10);
  }

  @Test
  void aSourceWhoseDatabaseIsDownDoesNotStopTheOthers() throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource up = shard(outbox, "up");
    DataSource down = OutboxTestSupport.driverManager("jdbc:mariadb://127.0.0.1:" + OutboxTestSupport.closedPort()
        + "/gone?connectTimeout=300", "root", "");
    String topic = KAFKA.createTopic("outbox-down-db", 1);
    OutboxRelay relay = started(OutboxRelay.builder("half", outbox).source("down", down).source("up", up)
        .producerConfig(kafka()));
    for (int i = 0; i < 5; i++) {
      addCommitted(up, outbox, topic, i * 10, i * 10 + 10);
      relay.wakeUp("up");
      relay.wakeUp("down");
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> relay.published() == 50 && rows(up, outbox.table()) == 0);
    assertThat(relay.databaseErrors()).isPositive();
    long errors = relay.databaseErrors();
    assertThat(relay.pending()).as("the down source is skipped").isZero();
    assertThat(relay.databaseErrors()).as("and counted").isGreaterThan(errors);
    assertThatThrownBy(() -> relay.pending("down")).isInstanceOf(SQLException.class);
    assertThat(countByKey(readAll(KAFKA, topic, 50, Duration.ofSeconds(1)))).hasSize(50);
  }

  @Test
  void aRowKafkaRefusesIsParkedAfterMaxAttemptsKeptAndCanBeRetriedWhileTheOthersFlow() throws Exception {
    Outbox outbox = Outbox.builder().build();
    HikariDataSource ds = shard(outbox, "parked");
    String topic = KAFKA.createTopic("outbox-parked", 1);
    try (Connection c = ds.getConnection()) {
      outbox.add(c, topic, "too-large", new byte[20_000]); // auto-commit
      outbox.add(c, topic, "fine", new byte[100]);
    }
    Map<String, Object> config = new HashMap<>(kafka());
    config.put("max.request.size", 10_000);
    OutboxRelay relay = started(OutboxRelay.builder("parking", outbox).source("s", ds).producerConfig(config)
        .maxAttempts(3).retryBackoff(Duration.ofMillis(20), Duration.ofMillis(100)));
    await().atMost(Duration.ofSeconds(15)).until(() -> relay.parked() == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> relay.published() == 1);
    assertThat(relay.sendFailures()).isEqualTo(3);
    assertThat(relay.pending()).as("parked rows are not pending").isZero();
    assertThat(outbox.parkedRows(ds)).isEqualTo(1);
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT msg_key, attempts, claimed_by, available_at, LENGTH(payload) FROM " + outbox.table());
        ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("too-large");
      assertThat(rs.getInt(2)).isEqualTo(3);
      assertThat(rs.getString(3)).isEqualTo("parked:RecordTooLargeException");
      assertThat(rs.getLong(4)).isEqualTo(Outbox.PARKED);
      assertThat(rs.getInt(5)).as("never silently deleted").isEqualTo(20_000);
      assertThat(rs.next()).isFalse();
    }
    relay.close();
    long failures = relay.sendFailures();
    assertThat(failures).as("no further attempts once parked").isEqualTo(3);

    assertThat(outbox.retryParked(ds)).isEqualTo(1);
    assertThat(outbox.parkedRows(ds)).isZero();
    OutboxRelay fixed = started(OutboxRelay.builder("parking", outbox).source("s", ds).producerConfig(kafka()));
    await().atMost(Duration.ofSeconds(10)).until(() -> fixed.published() == 1 && fixed.pending() == 0);
    List<ConsumerRecord<byte[], byte[]>> got = readUntil(KAFKA, topic, r -> r.size() >= 2);
    assertThat(got).extracting(r -> new String(r.key(), StandardCharsets.UTF_8)).containsExactly("fine", "too-large");
  }

  @Test
  void badConfigurationIsRefusedNamingTheParameterRuleAndValue() throws Exception {
    Outbox outbox = Outbox.builder().build();
    DataSource ds = TestPools.pool(MARIADB, 1);
    POOLS.add((HikariDataSource) ds);
    Function<Map<String, Object>, OutboxRelay.Builder> with = config ->
        OutboxRelay.builder("cfg", outbox).source("s", ds).producerConfig(config);
    String servers = KAFKA.bootstrapServers();

    assertThatThrownBy(() -> with.apply(Map.of("bootstrap.servers", servers, "acks", "1")).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("producerConfig acks must be all").hasMessageContaining("1");
    assertThatThrownBy(() -> with.apply(Map.of("bootstrap.servers", servers, "enable.idempotence", false)).build())
        .hasMessageContaining("producerConfig enable.idempotence must be true").hasMessageContaining("false");
    assertThatThrownBy(() -> with.apply(Map.of("bootstrap.servers", servers,
        "value.serializer", "org.apache.kafka.common.serialization.StringSerializer")).build())
        .hasMessageContaining("producerConfig value.serializer must be").hasMessageContaining("StringSerializer");
    assertThatThrownBy(() -> with.apply(Map.of("bootstrap.servers", servers, "transactional.id", "t")).build())
        .hasMessageContaining("transactional.id must not be set");
    assertThatThrownBy(() -> with.apply(Map.of("acks", "all")).build())
        .hasMessageContaining("bootstrap.servers must be set");
    assertThatThrownBy(() -> with.apply(Map.of("bootstrap.servers", servers, "delivery.timeout.ms", 120_000)).build())
        .hasMessageContaining("max.block.ms + delivery.timeout.ms must be below lease (30s)")
        .hasMessageContaining("7500 + 120000 ms");
    // accepted: the forced values themselves, in their usual spellings
    with.apply(Map.of("bootstrap.servers", servers, "acks", -1, "enable.idempotence", "true",
        "key.serializer", ByteArraySerializer.class)).build().close();

    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).producerConfig(Map.of()).build())
        .hasMessageContaining("sources must name at least one source");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).source("s", ds).build())
        .hasMessageContaining("producerConfig must not be null");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).source("s", ds).source("s", ds))
        .hasMessageContaining("source name must be unique, but was s");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).batchSize(0))
        .hasMessageContaining("batchSize must be in [1, 1000], but was 0");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).lease(Duration.ofMillis(500)))
        .hasMessageContaining("lease must be at least 1s, but was 500ms");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).pollInterval(Duration.ZERO))
        .hasMessageContaining("pollInterval must be positive");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("retryBackoff max must be at least initial (2s), but was 1s");
    assertThatThrownBy(() -> OutboxRelay.builder("x", outbox).maxAttempts(0))
        .hasMessageContaining("maxAttempts must be in [1, 1000], but was 0");
    assertThatThrownBy(() -> OutboxRelay.builder(" ", outbox)).hasMessageContaining("name must not be blank");
    assertThatThrownBy(() -> Outbox.builder().table("drop table x;"))
        .hasMessageContaining("table must be 1 to 64 characters");
    try (Connection c = ds.getConnection()) {
      assertThatThrownBy(() -> outbox.add(c, "bad topic", null, new byte[0]))
          .hasMessageContaining("topic must be a Kafka topic name").hasMessageContaining("bad topic");
      assertThatThrownBy(() -> outbox.add(c, "t", "k".repeat(256), new byte[0]))
          .hasMessageContaining("key must be at most 255 characters, but was 256 characters");
      assertThatThrownBy(() -> outbox.add(c, "t", null, null)).hasMessageContaining("payload must not be null");
    }
    OutboxRelay relay = OutboxRelay.builder("x", outbox).source("s", ds).producerConfig(kafka()).build();
    assertThat(relay.toString()).doesNotContain(servers).contains("x", "[s]", "NEW");
  }
}
