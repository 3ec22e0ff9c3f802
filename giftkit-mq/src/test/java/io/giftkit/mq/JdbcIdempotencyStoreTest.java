package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JDBC store on a real MariaDB: keys are compared byte for byte. */
class JdbcIdempotencyStoreTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
  static HikariDataSource db;

  @BeforeAll
  static void database() {
    db = TestPools.pool(MARIADB, 2);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }

  /** With the default (case- and accent-insensitive) collation these were one key: two of them silently skipped. */
  @Test
  void keysThatDifferOnlyInCaseAccentsOrTrailingSpacesAreDistinct() throws SQLException {
    JdbcIdempotencyStore store = new JdbcIdempotencyStore("idem_single");
    try (Connection c = db.getConnection()) {
      store.createTable(c);
      assertThat(store.claim(c, "settlement", "Order-1")).isTrue();
      assertThat(store.claim(c, "settlement", "order-1")).isTrue();
      assertThat(store.claim(c, "settlement", "ördér-1")).isTrue();
      assertThat(store.claim(c, "settlement", "order-1 ")).isTrue();
      assertThat(store.claim(c, "Settlement", "order-1")).as("groups are compared byte for byte too").isTrue();
      assertThat(store.claim(c, "settlement", "Order-1")).isFalse();
      assertThat(store.claim(c, "settlement", "ördér-1")).isFalse();
    }
  }

  /** Both ways of claiming a batch (RETURNING on MariaDB 10.5+, a claim token elsewhere) on the same keys. */
  @ParameterizedTest(name = "returning={0}")
  @ValueSource(booleans = {true, false})
  void batchedClaimsReturnTheExactKeys(boolean returning) throws SQLException {
    JdbcIdempotencyStore store = new JdbcIdempotencyStore("idem_batch_" + returning);
    try (Connection c = db.getConnection()) {
      store.createTable(c);
      assertThat(store.claimAll(c, "g", List.of("Order-1"), returning)).containsExactly("Order-1");
      assertThat(store.claimAll(c, "g", List.of("Order-1", "order-1", "ördér-1", "ORDER-1"), returning))
          .as("one key existed: the others come back, spelled exactly")
          .containsExactlyInAnyOrder("order-1", "ördér-1", "ORDER-1");
      assertThat(store.claimAll(c, "g", List.of("order-1", "ördér-1", "ordér-1"), returning))
          .containsExactly("ordér-1");
      assertThat(store.claimAll(c, "other", List.of("order-1"), returning)).as("per group").containsExactly("order-1");
      assertThat(store.claimAll(c, "g", List.of("order-1", "ördér-1"), returning)).as("all there already").isEmpty();
    }
  }

  /** A batch over the 500 rows of one statement is claimed in chunks, each answering for its own keys. */
  @ParameterizedTest(name = "returning={0}")
  @ValueSource(booleans = {true, false})
  void batchesLargerThanOneStatementAreClaimedWhole(boolean returning) throws SQLException {
    JdbcIdempotencyStore store = new JdbcIdempotencyStore("idem_large_" + returning);
    List<String> keys = IntStream.range(0, 1_234).mapToObj(i -> "k-" + i).toList();
    try (Connection c = db.getConnection()) {
      store.createTable(c);
      List<String> every7th = IntStream.range(0, 1_234).filter(i -> i % 7 == 0).mapToObj(i -> "k-" + i).toList();
      assertThat(store.claimAll(c, "g", every7th, returning)).hasSize(every7th.size());
      Set<String> fresh = store.claimAll(c, "g", keys, returning);
      assertThat(fresh).hasSize(keys.size() - every7th.size()).doesNotContainAnyElementsOf(every7th);
    }
  }

  /** This server is MariaDB 10.5 or later: the store takes the one-statement way, and writes no token. */
  @Test
  void onMariaDbTheClaimIsOneInsertReturningTheNewKeys() throws SQLException {
    JdbcIdempotencyStore store = new JdbcIdempotencyStore("idem_returning");
    try (Connection c = db.getConnection()) {
      store.createTable(c);
      assertThat(JdbcIdempotencyStore.insertReturns(c)).isTrue();
      assertThat(store.claimAll(c, "g", List.of("a", "b"))).containsExactlyInAnyOrder("a", "b");
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*), COUNT(claim_token) FROM idem_returning")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(2);
        assertThat(rs.getInt(2)).as("rows with a claim token").isZero();
      }
    }
  }
}
