package io.giftkit.testing.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A MariaDB server of the test's own: {@code mariadb-install-db --no-defaults} into its own datadir,
 * then {@code mariadbd --no-defaults} on a free loopback port and its own socket. {@code root} may log
 * in over TCP from 127.0.0.1 with an empty password. After a {@link #kill()} it restarts on the same
 * datadir and port (InnoDB crash recovery). Ready means {@code SELECT 1} answers over JDBC.
 * Needs MariaDB's server binaries ({@code scripts/services} installs them). Not thread-safe.
 */
public final class MariaDbProcess implements AutoCloseable {

  private final ManagedProcess process;
  private final int port;

  /**
   * Initialises the datadir under {@code dir}.
   *
   * @param registry kills it at the end
   * @param dir its directory: {@code data/}, the socket, the logs
   * @throws ProcessStartException if {@code mariadb-install-db} fails
   */
  public MariaDbProcess(ProcessRegistry registry, Path dir) {
    this.port = ManagedProcess.freePort();
    Path data = dir.resolve("data");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ManagedProcess.runToCompletion(List.of("mariadb-install-db", "--no-defaults", "--user=root", "--datadir=" + data,
        "--auth-root-authentication-method=normal", "--skip-test-db"), Map.of(), dir.resolve("install.log"),
        Duration.ofSeconds(120));
    // the socket path must stay under 108 bytes: keep it short and in /tmp if the run dir is deep
    String socket = dir.resolve("s.sock").toString();
    if (socket.length() > 100) {
      socket = Path.of(System.getProperty("java.io.tmpdir"), "giftkit-mariadb-" + port + ".sock").toString();
    }
    this.process = new ManagedProcess(registry, "mariadb", List.of("mariadbd", "--no-defaults", "--user=root",
        "--datadir=" + data, "--port=" + port, "--bind-address=127.0.0.1", "--socket=" + socket,
        "--pid-file=" + dir.resolve("mariadbd.pid"), "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
        "--max-connections=300"), Map.of(), dir.resolve("mariadbd.log"));
  }

  /** @return its port on 127.0.0.1 */
  public int port() {
    return port;
  }

  /** @return {@code jdbc:mariadb://127.0.0.1:port/} followed by {@code database} */
  public String jdbcUrl(String database) {
    return "jdbc:mariadb://127.0.0.1:" + port + "/" + database;
  }

  /** @return the process */
  public ManagedProcess process() {
    return process;
  }

  /**
   * Starts the server and waits until {@code root} can run {@code SELECT 1} over TCP.
   *
   * @throws ProcessStartException if it exits or is not ready within {@code timeout}
   */
  public void start(Duration timeout) {
    process.start();
    process.awaitReady(timeout, this::answers);
  }

  /** @return whether {@code SELECT 1} answers within 2 s */
  public boolean answers() throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl("") + "?connectTimeout=2000&socketTimeout=2000", "root", "");
        Statement s = c.createStatement()) {
      return s.execute("SELECT 1");
    }
  }

  /** Kills it with {@code SIGKILL}. */
  public void kill() {
    process.kill();
  }

  @Override
  public void close() {
    process.kill();
  }
}
