package io.giftkit.demo.chaos;

import io.giftkit.testing.process.ProcessStartException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * {@code scripts/demo-chaos [seconds] [seed]}: the gift system as separate OS processes (a Kafka
 * broker, shard 9's own MariaDB server, Redis, two application instances; shards 0–8 and the control
 * and payment databases on the shared MariaDB), HTTP load from this JVM, faults drawn from the seed
 * (kill -9 and restart of Kafka, of shard 9's server and of each application instance; SIGSTOP/SIGCONT
 * and later kill -9 of Redis), then settlement and the invariants checked by SQL, and a report.
 *
 * <p>Exit code 0 if every invariant holds and panel availability is at least 99.99%; 1 otherwise;
 * 2 for a harness error (a process that would not start or restart, a process left alive). Every
 * process it started is killed at the end, whatever happens.
 */
public final class ChaosRun {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int HARNESS_ERROR = 2;
  private static final Duration QUIET = Duration.ofSeconds(5);
  private static final Duration WARM_UP = Duration.ofSeconds(5);

  private ChaosRun() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs a chaos run in this JVM (the processes it starts are its children).
   *
   * @return the exit code
   */
  public static int run(String[] args) {
    ChaosOptions options;
    try {
      options = ChaosOptions.parse(args, defaultBase());
    } catch (IllegalArgumentException e) {
      System.err.println("ChaosRun: " + e.getMessage());
      return HARNESS_ERROR;
    }
    try {
      wipe(options.runDir());
      Files.createDirectories(options.runDir());
    } catch (IOException e) {
      System.err.println("ChaosRun: cannot prepare " + options.runDir() + ": " + e);
      return HARNESS_ERROR;
    }
    quietClientLogs();
    Log log = new Log(options.runDir().resolve("chaos.log"));
    log.line("chaos run: seed %d, %d s at %d req/s, horizon %d s, run dir %s", options.seed(), options.seconds(),
        options.rate(), options.horizon().toSeconds(), options.runDir());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("chaos.classpath", System.getProperty("java.class.path"));
    int code;
    ChaosCluster cluster = null;
    List<String> notes = new ArrayList<>();
    try {
      cluster = ChaosCluster.start(options, java, classpath, log);
      code = drive(options, cluster, log, notes);
    } catch (ProcessStartException e) {
      log.line("HARNESS ERROR: %s", e.getMessage());
      code = HARNESS_ERROR;
    } catch (Exception | Error e) {
      log.line("HARNESS ERROR: %s", e);
      e.printStackTrace();
      code = HARNESS_ERROR;
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
    if (cluster != null) {
      List<Long> alive = cluster.registry.survivors();
      if (alive.isEmpty()) {
        log.line("all %d processes started by the run have exited (pids %s)", cluster.registry.pids().size(),
            cluster.registry.pids());
      } else {
        log.line("HARNESS ERROR: processes still alive after the run: %s", alive);
        code = HARNESS_ERROR;
      }
    }
    if (code == HARNESS_ERROR && !Files.exists(options.runDir().resolve("REPORT.md"))) {
      try {
        Files.writeString(options.runDir().resolve("REPORT.md"), "# Chaos run, seed " + options.seed()
            + "\n\nHARNESS ERROR: see chaos.log and the process logs in this directory.\n");
      } catch (IOException e) {
        // chaos.log has it
      }
    }
    log.line("exit code %d (%s); report %s", code, code == OK ? "passed" : code == FAILED ? "failed" : "harness error",
        options.runDir().resolve("REPORT.md"));
    return code;
  }

  private static int drive(ChaosOptions options, ChaosCluster cluster, Log log, List<String> notes) throws Exception {
    List<FaultPlan.Planned> plan = FaultPlan.draw(options.seed(), options.seconds());
    for (FaultPlan.Planned p : plan) {
      log.line("planned: %-20s at %5.1f s, down %.1f s", p.label(), p.startSecond(), p.downSeconds());
    }
    List<URI> targets = cluster.apps.stream().map(AppInstance::base).toList();
    warmUp(targets, options, log);
    long zero = System.nanoTime();
    log.resetClock(zero);
    log.line("load starts");
    List<FaultWindow> faults;
    double loadSeconds;
    List<Sample> samples;
    try (LoadDriver load = new LoadDriver(targets, options.rate(), options.seed())) {
      load.start(zero);
      FaultRunner runner = new FaultRunner(cluster, plan, log);
      CompletableFuture<List<FaultWindow>> done = runner.start(zero);
      long end = zero + TimeUnit.SECONDS.toNanos(options.seconds());
      try {
        // the load lasts at least `seconds`, and until the last fault has recovered
        faults = done.get(options.seconds() + 600L, TimeUnit.SECONDS);
        long left = end - System.nanoTime();
        if (left > 0) {
          TimeUnit.NANOSECONDS.sleep(left); // the end of the load is a schedule instant
        } else {
          notes.add(String.format(Locale.ROOT, "the load ran %.1f s past the asked %d s: the last fault recovered then",
              -left / 1e9, options.seconds()));
        }
      } catch (ExecutionException e) {
        load.stop(Duration.ofSeconds(1));
        Throwable cause = e.getCause();
        throw cause instanceof Exception ex ? ex : new IllegalStateException(cause);
      } catch (TimeoutException e) {
        throw new IllegalStateException("the faults did not finish within " + (options.seconds() + 600) + " s", e);
      }
      load.stop(Duration.ofSeconds(8));
      loadSeconds = (System.nanoTime() - zero) / 1e9;
      samples = load.samples();
      samples.sort(Comparator.comparingLong(Sample::startNanos));
    }
    log.line("load ended: %d requests recorded", samples.size());
    cluster.ensureAllUp(log);
    String settlement = awaitSettlement(cluster, options.horizon(), log);
    Books books = Books.read(cluster);
    List<Invariants.Verdict> verdicts = Invariants.check(books);
    if (!books.missing.isEmpty()) {
      notes.add("tables missing (the money-path rewrite adds them): " + books.missing);
    }
    ChaosReport report = new ChaosReport(new ChaosReport.Inputs(options, loadSeconds, faults, samples, verdicts,
        settlement, apiAlerts(cluster), notes));
    report.write(options.runDir());
    System.out.println();
    System.out.println(report.summary());
    return report.passed() ? OK : FAILED;
  }

  /**
   * Polls the databases until settlement is over: no order PAYMENT_UNKNOWN and the ledger unchanged for
   * 5 s with at least as many rows as PAID orders (caught up), or the horizon passes. A ledger that
   * has not moved for a long time while behind is still waited for: a consumer group that lost members
   * to kill -9 was seen to resume after a minute. Whatever it ends with goes into the report; the
   * invariants are checked either way.
   */
  private static String awaitSettlement(ChaosCluster cluster, Duration horizon, Log log) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + horizon.toNanos();
    long[] last = null;
    long quietSince = start;
    String lastError = null;
    int polls = 0;
    while (true) {
      long now = System.nanoTime();
      try {
        long[] p = Books.progress(cluster);
        if (last == null || p[0] != last[0] || p[1] != last[1] || p[2] != last[2] || p[3] != last[3]) {
          quietSince = now;
        }
        last = p;
        long quiet = now - quietSince;
        if (polls++ % 5 == 0) {
          log.line("settlement: ledger %d rows / %d coins, PAID orders %d, PAYMENT_UNKNOWN %d, unchanged for %d s",
              p[0], p[1], p[3], p[2], quiet / 1_000_000_000);
        }
        if (p[2] == 0 && p[0] >= p[3] && quiet >= QUIET.toNanos()) {
          // caught up: extra ledger rows are the invariants' business, not something to wait for
          return done(log, String.format(Locale.ROOT, "settled %.1f s after the load: ledger %d rows / %d coins"
              + " for %d PAID orders, no PAYMENT_UNKNOWN, unchanged for %d s", (now - start) / 1e9, p[0], p[1], p[3],
              QUIET.toSeconds()));
        }
      } catch (java.sql.SQLException e) {
        lastError = e.toString();
      }
      if (now - deadline > 0) {
        return done(log, String.format(Locale.ROOT, "NOT settled within the %d s horizon: %s", horizon.toSeconds(),
            last == null ? "databases unreadable: " + lastError : String.format(Locale.ROOT,
                "ledger %d rows / %d coins, PAID orders %d, PAYMENT_UNKNOWN %d, unchanged for %d s", last[0], last[1],
                last[3], last[2], (now - quietSince) / 1_000_000_000)));
      }
      TimeUnit.SECONDS.sleep(1); // poll interval of the settlement condition
    }
  }

  /**
   * A few seconds of the same load before second 0, not recorded: freshly started JVMs answer their first
   * requests in seconds (class loading, JIT), which would otherwise fill the first seconds' p99. The
   * orders it creates are part of the books like any other.
   */
  private static void warmUp(List<URI> targets, ChaosOptions options, Log log) throws InterruptedException {
    try (LoadDriver warm = new LoadDriver(targets, options.rate(), ~options.seed())) {
      warm.start(System.nanoTime());
      TimeUnit.NANOSECONDS.sleep(WARM_UP.toNanos()); // the warm-up's length is a schedule, not a condition
      warm.stop(Duration.ofSeconds(5));
      List<Sample> s = warm.samples();
      log.line("warm-up: %d requests in %d s, %d not 2xx (not recorded)", s.size(), WARM_UP.toSeconds(),
          s.stream().filter(x -> x.outcome() != Sample.Outcome.OK).count());
    }
  }

  private static String done(Log log, String s) {
    log.line("%s", s);
    return s;
  }

  private static String apiAlerts(ChaosCluster cluster) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    for (AppInstance a : cluster.apps) {
      try {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(a.base().resolve("/api/reconciliation/alerts"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        String body = r.body();
        long count = body.startsWith("[") && body.length() > 2 ? body.chars().filter(c -> c == '{').count() : 0;
        return String.format(Locale.ROOT, "%s answered %d: %d alerts%n%n```%n%s%n```", a.name(), r.statusCode(), count,
            body.length() > 3000 ? body.substring(0, 3000) + " …" : body);
      } catch (IOException e) {
        // try the other instance
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }
    return "no instance answered";
  }

  /**
   * The runner's own Kafka admin and JDBC clients log through SLF4J; with Logback unconfigured that is
   * DEBUG on stdout. Keep the runner's output to its own lines (the processes have their own logs).
   */
  private static void quietClientLogs() {
    if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
      context.getLogger("org.apache.kafka").setLevel(ch.qos.logback.classic.Level.ERROR);
      context.getLogger("org.mariadb").setLevel(ch.qos.logback.classic.Level.WARN);
    }
  }

  private static Path defaultBase() {
    String dir = System.getProperty("chaos.dir");
    if (dir != null) {
      return Path.of(dir);
    }
    return Files.isDirectory(Path.of("giftkit-demo")) ? Path.of("giftkit-demo", "target", "chaos")
        : Path.of("target", "chaos");
  }

  private static void wipe(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
