package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.Ticker;
import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The slow-SQL breaker against real MariaDB: three databases are three shards, and a template made
 * slow for real by {@code SLEEP(?)} in its {@code WHERE} clause. Each run of the template adds one
 * to a row's {@code amount}, so the row counts, on the server, the calls that reached it.
 */
class SlowSqlBreakerTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  static final String DDL = "CREATE TABLE IF NOT EXISTS {table} (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
      + " amount BIGINT NOT NULL, created_at BIGINT NOT NULL)";
  /** Slow when bound with 0.15 or 0.3 (seconds of SLEEP), fast with 0: one template either way. */
  static final String BUMP = "UPDATE {table} SET amount = amount + 1 WHERE order_id = ? AND SLEEP(?) = 0";
  static final String READ = "SELECT amount FROM {table} WHERE order_id = ?";
  static final Instant AT = YearMonth.of(2026, 11).atDay(5).atStartOfDay().toInstant(ZoneOffset.UTC);

  static final List<String> databases = new ArrayList<>();
  static ShardRouter router;
  static ShardDataSources nodes;

  /** Real time for statements, plus an offset the test moves to skip a cooldown without sleeping. */
  final AtomicLong offset = new AtomicLong();
  final Ticker ticker = () -> System.nanoTime() + offset.get();

  @BeforeAll
  static void shards() {
    ShardDataSources.Builder b = ShardDataSources.builder().connectionTimeout(Duration.ofSeconds(2));
    for (int s = 0; s < 3; s++) {
      String db = MARIADB.createDatabase("slow" + s);
      databases.add(db);
      b.primary(s, MARIADB.jdbcUrl(db), MARIADB.user(), MARIADB.password());
    }
    router = ShardRouter.builder("gift_order").shards(3).build();
    nodes = b.build();
    new ShardedJdbc(router, nodes).ensureTables(DDL, YearMonth.of(2026, 11));
  }

  @AfterAll
  static void close() {
    nodes.close();
  }

  @BeforeEach
  void rows() throws SQLException {
    for (int s = 0; s < 3; s++) {
      try (Connection c = MARIADB.newConnection(databases.get(s)); Statement st = c.createStatement()) {
        st.executeUpdate("REPLACE INTO gift_order_202611 (order_id, uid, amount, created_at) VALUES (" + s + ", " + s
            + ", 0, 0)");
      }
    }
  }

  static long amount(int shard) throws SQLException {
    try (Connection c = MARIADB.newConnection(databases.get(shard)); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT amount FROM gift_order_202611 WHERE order_id = " + shard)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aSlowTemplateFailsFastOnItsShardOnlyAndAFastProbeClosesIt() throws SQLException {
    // 250 ms: a fast probe (SLEEP(0)) stays well under it even on a busy machine
    ShardedJdbc jdbc = new ShardedJdbc(router, nodes, ticker).slowThreshold(Duration.ofMillis(250))
        .slowSqlBreaker(SlowSqlBreakerConfig.builder().slowCallRateThreshold(50).minimumCalls(3)
            .window(Duration.ofMinutes(1)).openDuration(Duration.ofSeconds(30)).halfOpenProbes(1).build());
    List<String> heard = Collections.synchronizedList(new ArrayList<>());
    jdbc.addSlowSqlBreakerListener((template, shard, from, to, rate) -> {
      throw new IllegalStateException("a listener with a bug");
    });
    jdbc.addSlowSqlBreakerListener((template, shard, from, to, rate) ->
        heard.add(shard + "|" + from + ">" + to + "|" + Math.round(rate) + "|" + template));

    for (int i = 0; i < 3; i++) {
      assertThat(jdbc.update(1, AT, BUMP, 1L, 0.3)).as("the call that trips it returns normally").isEqualTo(1);
    }
    assertThat(heard).containsExactly("1|CLOSED>OPEN|100|" + BUMP);
    assertThat(amount(1)).isEqualTo(3);

    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> jdbc.update(1, AT, BUMP, 1L, 0.0)).isInstanceOfSatisfying(SlowSqlRejectedException.class,
          e -> {
            assertThat(e.getMessage()).startsWith("slow-SQL breaker of template \"" + BUMP + "\" on shard 1 is OPEN"
                + " (slow-call rate 100.0%), cooldown left ").endsWith("; the statement was not run");
            assertThat(e.remainingCooldown()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(30));
          });
    }
    assertThat(amount(1)).as("the refused calls never reached the database").isEqualTo(3);
    assertThat(jdbc.slowSqlRejections()).isEqualTo(5);

    assertThat(jdbc.query(1, AT, Consistency.STRONG, READ, rs -> rs.getLong(1), 1L))
        .as("another template on the same shard runs").containsExactly(3L);
    assertThat(jdbc.update(2, AT, BUMP, 2L, 0.0)).as("the same template on another shard runs").isEqualTo(1);
    assertThat(amount(2)).isEqualTo(1);
    assertThat(jdbc.slowSqlBreakerSnapshots()).singleElement().satisfies(s -> {
      assertThat(s.template()).isEqualTo(BUMP);
      assertThat(s.shard()).isEqualTo(1);
      assertThat(s.state()).isEqualTo(SlowSqlBreakerState.OPEN);
      assertThat(s.rejections()).isEqualTo(5);
    });
    assertThat(jdbc.slowSqlBreakersNotClosed(1)).isEqualTo(1);
    assertThat(jdbc.slowSqlBreakersNotClosed(2)).isZero();

    offset.addAndGet(Duration.ofSeconds(30).toNanos()); // the cooldown has passed
    assertThat(jdbc.update(1, AT, BUMP, 1L, 0.0)).as("the probe runs").isEqualTo(1);
    assertThat(amount(1)).isEqualTo(4);
    assertThat(heard).containsExactly("1|CLOSED>OPEN|100|" + BUMP, "1|OPEN>HALF_OPEN|100|" + BUMP,
        "1|HALF_OPEN>CLOSED|0|" + BUMP);
    assertThat(jdbc.slowSqlBreakerSnapshots()).isEmpty();
    assertThat(jdbc.update(1, AT, BUMP, 1L, 0.0)).isEqualTo(1);
    assertThat(amount(1)).isEqualTo(5);
    assertThat(jdbc.slowSqlBreakerTrips()).isEqualTo(1);
  }

  @Test
  void aSlowProbeReopensAndReadsAndBatchesAreGuardedToo() throws SQLException {
    String slowRead = "SELECT amount FROM {table} WHERE order_id = ? AND SLEEP(?) = 0";
    ShardedJdbc jdbc = new ShardedJdbc(router, nodes, ticker).slowThreshold(Duration.ofMillis(100))
        .slowSqlBreaker(SlowSqlBreakerConfig.builder().minimumCalls(2).openDuration(Duration.ofSeconds(30))
            .halfOpenProbes(1).build());
    jdbc.query(0, AT, Consistency.STRONG, slowRead, rs -> rs.getLong(1), 0L, 0.15);
    jdbc.query(0, AT, Consistency.STRONG, slowRead, rs -> rs.getLong(1), 0L, 0.15);
    assertThatThrownBy(() -> jdbc.query(0, AT, Consistency.STRONG, slowRead, rs -> rs.getLong(1), 0L, 0.0))
        .isInstanceOf(SlowSqlRejectedException.class);
    offset.addAndGet(Duration.ofSeconds(30).toNanos());
    assertThat(jdbc.query(0, AT, Consistency.STRONG, slowRead, rs -> rs.getLong(1), 0L, 0.15))
        .as("the probe runs, slowly").containsExactly(0L);
    assertThat(jdbc.slowSqlBreakerSnapshots()).singleElement()
        .satisfies(s -> assertThat(s.state()).isEqualTo(SlowSqlBreakerState.OPEN));
    assertThat(jdbc.slowSqlBreakerTrips()).isEqualTo(2);

    String insert = "INSERT IGNORE INTO {table} (order_id, uid, amount, created_at) VALUES (?, ?, SLEEP(?), 0)";
    jdbc.batchInsert(List.of(100L, 103L), uid -> uid, uid -> AT, insert, uid -> new Object[] {uid, uid, 0.15});
    jdbc.batchInsert(List.of(106L), uid -> uid, uid -> AT, insert, uid -> new Object[] {uid, uid, 0.15});
    assertThatThrownBy(() -> jdbc.batchInsert(List.of(109L), uid -> uid, uid -> AT, insert,
        uid -> new Object[] {uid, uid, 0.0})).isInstanceOf(SlowSqlRejectedException.class)
        .hasMessageContaining("on shard 1 is OPEN");
    assertThat(jdbc.query(109, AT, Consistency.STRONG, READ, rs -> rs.getLong(1), 109L)).as("not inserted").isEmpty();
  }

  @Test
  void offByDefault() throws SQLException {
    ShardedJdbc jdbc = new ShardedJdbc(router, nodes, ticker).slowThreshold(Duration.ofMillis(100));
    for (int i = 0; i < 4; i++) {
      assertThat(jdbc.update(0, AT, BUMP, 0L, 0.15)).isEqualTo(1);
    }
    assertThat(jdbc.update(0, AT, BUMP, 0L, 0.0)).isEqualTo(1);
    assertThat(amount(0)).as("every call ran").isEqualTo(5);
    assertThat(jdbc.slowSqlBreakerConfig()).isEmpty();
    assertThat(jdbc.slowSqlRejections()).isZero();
    assertThat(jdbc.slowSqlBreakerSnapshots()).isEmpty();
  }
}
