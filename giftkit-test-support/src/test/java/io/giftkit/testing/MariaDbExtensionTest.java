package io.giftkit.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MariaDbExtensionTest {

  @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();

  @Test
  void givesTheClassItsOwnDatabaseOnARealServer() throws SQLException {
    assertThat(MARIADB.database()).startsWith("gk_mariadbextensiontest_").hasSize("gk_mariadbextensiontest_".length() + 8);
    try (Connection c = MARIADB.newConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE gift (id BIGINT PRIMARY KEY, name VARCHAR(32))");
      s.execute("INSERT INTO gift VALUES (1, 'rose'), (2, 'rocket')");
      try (ResultSet rs = s.executeQuery("SELECT DATABASE(), COUNT(*), VERSION() FROM gift")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo(MARIADB.database());
        assertThat(rs.getInt(2)).isEqualTo(2);
        assertThat(rs.getString(3)).isNotBlank();
      }
    }
  }

  @Test
  void extraDatabasesAreCreatedAndDroppedWithTheirOwner() throws SQLException {
    MariaDbExtension other = new MariaDbExtension();
    String first = other.start("Owner Test");
    String second = other.createDatabase("shard-3");
    assertThat(first).startsWith("gk_owner_test_");
    assertThat(second).startsWith("gk_shard_3_");
    assertThat(databaseExists(first)).isTrue();
    assertThat(databaseExists(second)).isTrue();
    try (Connection c = other.newConnection(second); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id INT)");
    }

    other.dropAll();

    assertThat(databaseExists(first)).isFalse();
    assertThat(databaseExists(second)).isFalse();
  }

  @Test
  void unreachableServerFailsNamingServiceAddressAndRemedy() {
    MariaDbExtension closed = new MariaDbExtension("jdbc:mariadb://127.0.0.1:1/", "root", "s3cret");
    assertThatThrownBy(() -> closed.start("x"))
        .isInstanceOf(ServiceUnavailableError.class)
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("MariaDB is not reachable at jdbc:mariadb://127.0.0.1:1/ (user root): ")
        .hasMessageContaining("Run scripts/test")
        .hasMessageContaining("GIFTKIT_MYSQL_URL")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
  }

  @Test
  void urlsGetTheDatabaseInTheirPath() {
    assertThat(MariaDbExtension.withDatabase("jdbc:mariadb://127.0.0.1:3306/", "db1"))
        .isEqualTo("jdbc:mariadb://127.0.0.1:3306/db1");
    assertThat(MariaDbExtension.withDatabase("jdbc:mariadb://h:1", "db1")).isEqualTo("jdbc:mariadb://h:1/db1");
    assertThat(MariaDbExtension.withDatabase("jdbc:mariadb://h:1/old?useSsl=false", "db1"))
        .isEqualTo("jdbc:mariadb://h:1/db1?useSsl=false");
    assertThatThrownBy(() -> MariaDbExtension.withDatabase("mariadb:h", "db1"))
        .hasMessage("GIFTKIT_MYSQL_URL must look like jdbc:mariadb://host:port/, but was mariadb:h");
  }

  @Test
  void databaseBeforeStartIsAClearError() {
    assertThatThrownBy(() -> new MariaDbExtension().database())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has not started");
  }

  private static boolean databaseExists(String name) throws SQLException {
    try (Connection c = MARIADB.newConnection();
        ResultSet rs = c.getMetaData().getCatalogs()) {
      while (rs.next()) {
        if (rs.getString(1).equals(name)) {
          return true;
        }
      }
      return false;
    }
  }
}
