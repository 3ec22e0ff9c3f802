package io.giftkit.mq;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.testing.MariaDbExtension;

/** A connection pool on a test class's MariaDB database. */
public final class TestPools {

  private TestPools() {}

  /**
   * @param mariadb the test class's extension (started)
   * @param size the pool's size
   * @return a pool on its database; close it after the class
   */
  public static HikariDataSource pool(MariaDbExtension mariadb, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(mariadb.jdbcUrl());
    c.setUsername(mariadb.user());
    c.setPassword(mariadb.password());
    c.setMaximumPoolSize(size);
    return new HikariDataSource(c);
  }
}
