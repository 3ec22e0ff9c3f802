package io.giftkit.shard;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Two real MariaDB servers started by the test on free loopback ports, the second replicating from
 * the first (GTID), each with its own datadir under {@code target/}. The application user
 * {@code app} has rights on the {@code gifts} database only, so {@code read_only} applies to it.
 * Needs the {@code mariadbd} and {@code mariadb-install-db} binaries (scripts/test installs them).
 */
final class ReplicatedPair implements AutoCloseable {

  static final String DATABASE = "gifts";
  static final String APP_USER = "app";
  static final String APP_PASSWORD = "app-secret";

  final int[] ports = new int[2];
  private final Path base;
  private final List<Process> servers = new ArrayList<>();

  ReplicatedPair() throws Exception {
    base = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "mariadb-pair-");
    try {
      start();
    } catch (Exception | Error e) {
      try {
        close(); // a server started before the failure must not outlive the test
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private void start() throws Exception {
    for (int n = 0; n < 2; n++) {
      ports[n] = freePort();
      Path data = base.resolve("d" + n);
      // a tmpdir of its own: in the shared /tmp, temporary-table names of concurrent installs can collide
      Path tmp = Files.createDirectories(base.resolve("tmp" + n));
      run(List.of("mariadb-install-db", "--no-defaults", "--user=root", "--datadir=" + data, "--tmpdir=" + tmp,
          "--auth-root-authentication-method=normal"), base.resolve("install" + n + ".log"));
      ProcessBuilder pb = new ProcessBuilder("mariadbd", "--no-defaults", "--user=root", "--datadir=" + data,
          "--tmpdir=" + tmp,
          "--port=" + ports[n], "--bind-address=127.0.0.1", "--socket=" + socket(n), "--pid-file=" + base.resolve("p" + n),
          "--server-id=" + (n + 1), "--log-bin=" + data.resolve("bin"), "--binlog-format=ROW", "--skip-name-resolve");
      pb.redirectErrorStream(true).redirectOutput(base.resolve("server" + n + ".log").toFile());
      servers.add(pb.start());
    }
    for (int n = 0; n < 2; n++) {
      int node = n;
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> trySql(node, "SELECT 1"));
      sql(n, "SET sql_log_bin=0; CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-secret';"
          + " GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';"
          + " CREATE USER '" + APP_USER + "'@'127.0.0.1' IDENTIFIED BY '" + APP_PASSWORD + "';"
          + " GRANT ALL ON " + DATABASE + ".* TO '" + APP_USER + "'@'127.0.0.1';");
    }
    sql(1, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + ports[0] + ", MASTER_USER='repl',"
        + " MASTER_PASSWORD='repl-secret', MASTER_USE_GTID=slave_pos; START SLAVE; SET GLOBAL read_only=1;");
    sql(0, "CREATE DATABASE " + DATABASE);
  }

  String jdbcUrl(int node) {
    return "jdbc:mariadb://127.0.0.1:" + ports[node] + "/" + DATABASE;
  }

  /** The replica becomes the primary (replication stopped, writable) and the old primary read-only. */
  void promoteSecond() throws Exception {
    sql(0, "SET GLOBAL read_only=1");
    sql(1, "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0;");
  }

  /**
   * A planned switchover: the primary made read-only, the replica waited for until it applied all
   * of the primary's binlog, then promoted (replication stopped, writable).
   */
  void switchToSecond() throws Exception {
    sql(0, "SET GLOBAL read_only=1");
    String position = query(0, "SELECT @@gtid_binlog_pos");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> query(1, "SELECT @@gtid_slave_pos").equals(position));
    sql(1, "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0;");
  }

  /** Stops one server (as a crash would leave it: its clients see the connection refused). */
  void stop(int node) throws InterruptedException {
    Process p = servers.get(node);
    p.destroyForcibly();
    p.waitFor(20, TimeUnit.SECONDS);
  }

  void readOnly(int node, boolean readOnly) throws Exception {
    sql(node, "SET GLOBAL read_only=" + (readOnly ? 1 : 0));
  }

  /** Runs one query as root and returns its output (tab-separated, no column names), trimmed. */
  String query(int node, String query) throws Exception {
    Path out = base.resolve("query" + node + "-" + Thread.currentThread().getId() + ".out");
    run(List.of("mariadb", "--socket=" + socket(node), "-uroot", "-N", "-B", "-e", query), out);
    return Files.readString(out).trim();
  }

  void sql(int node, String statements) throws Exception {
    Path log = base.resolve("sql" + node + ".log");
    run(List.of("mariadb", "--socket=" + socket(node), "-uroot", "-e", statements), log);
  }

  private boolean trySql(int node, String statement) {
    try {
      sql(node, statement);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private String socket(int node) {
    return base.resolve("s" + node + ".sock").toString();
  }

  private static void run(List<String> command, Path log) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new AssertionError(command.get(0) + " could not be started (" + e.getMessage() + "): the failover test"
          + " needs MariaDB's server binaries; scripts/test installs them (apt-get install mariadb-server)", e);
    }
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command.subList(0, Math.min(2, command.size()))) + " failed: "
          + Files.readString(log));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws IOException {
    for (Process p : servers) {
      p.destroy();
    }
    for (Process p : servers) {
      try {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(base)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
