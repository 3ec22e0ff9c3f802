package io.giftkit.mq;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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

  @Test
  void batchedClaimsReturnTheExactKeys() throws SQLException {
    JdbcIdempotencyStore store = new JdbcIdempotencyStore("idem_batch");
    try (Connection c = db.getConnection()) {
      store.createTable(c);
      assertThat(store.claimAll(c, "g", List.of("Order-1"))).containsExactly("Order-1");
      assertThat(store.claimAll(c, "g", List.of("Order-1", "order-1", "ördér-1", "ORDER-1")))
          .as("one key existed: the SELECT by claim token finds the others, spelled exactly")
          .containsExactlyInAnyOrder("order-1", "ördér-1", "ORDER-1");
      assertThat(store.claimAll(c, "g", List.of("order-1", "ördér-1", "ordér-1"))).containsExactly("ordér-1");
    }
  }
}
