package io.giftkit.demo.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A short chaos run (60 s of load, fixed seed, 60 s settlement horizon: a
 * consumer group waits out a killed member's session, 45 s by default) in this JVM: the processes
 * it starts (Kafka, shard 9's MariaDB, Redis, two application instances) get this JVM's classpath
 * (under Surefire a manifest-only jar, which works as {@code -cp} too). Passes when every invariant
 * holds and panel availability is at least 99.99% (exit code 0). Needs MariaDB on 127.0.0.1:3306,
 * {@code mariadbd}/{@code mariadb-install-db} and {@code redis-server} ({@code scripts/services}).
 */
class ChaosRunTest {

  static final long SEED = 20_261_201L;

  @Test
  @Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
  void booksBalanceAndPanelsStayUpWhileProcessesAreKilled() throws Exception {
    Path dir = Path.of("target", "chaos", "test-" + SEED).toAbsolutePath();
    int code = ChaosRun.run(new String[] {"60", Long.toString(SEED), "--horizon=60", "--dir=" + dir});

    assertThat(dir.resolve("REPORT.md")).exists();
    String report = Files.readString(dir.resolve("REPORT.md"));
    assertThat(code).as("exit code (2 = harness error); report:%n%s", report).isNotEqualTo(ChaosRun.HARNESS_ERROR);
    assertThat(dir.resolve("chaos.png")).exists();
    assertThat(report).contains("KAFKA_KILL", "SHARD9_KILL", "APP_KILL(app-1)", "APP_KILL(app-2)", "REDIS_STOP",
        "REDIS_KILL");
    assertThat(code).as("exit code; report:%n%s", report).isEqualTo(ChaosRun.OK);
  }
}
