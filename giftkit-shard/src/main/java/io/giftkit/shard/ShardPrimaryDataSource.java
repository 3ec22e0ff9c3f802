package io.giftkit.shard;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} view of one shard that always connects to the shard's current primary
 * (following failovers), for code that takes a plain DataSource: an outbox relay, a re-check
 * scheduler, a framework's transaction manager. {@link ShardUnavailableException} becomes an
 * {@link SQLException} with the same message, as the DataSource contract asks.
 */
final class ShardPrimaryDataSource implements DataSource {

  private final ShardDataSources nodes;
  private final int shard;

  ShardPrimaryDataSource(ShardDataSources nodes, int shard) {
    this.nodes = nodes;
    this.shard = shard;
  }

  @Override
  public Connection getConnection() throws SQLException {
    try {
      return nodes.connection(shard, Consistency.STRONG);
    } catch (ShardUnavailableException e) {
      throw new SQLException(e.getMessage(), "08001", e);
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("shard " + shard + ": credentials come from the shard's configuration");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {
    // no log writer: GiftKit logs through SLF4J
  }

  @Override
  public void setLoginTimeout(int seconds) {
    // the pools' connection timeout applies
  }

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException("GiftKit logs through SLF4J");
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    throw new SQLException("shard " + shard + "'s primary view is not a " + iface.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface.isInstance(this);
  }

  @Override
  public String toString() {
    return "ShardPrimaryDataSource{shard=" + shard + "}";
  }
}
