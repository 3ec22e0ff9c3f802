package io.giftkit.e2e;

import io.giftkit.testing.process.KafkaProcess;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import io.giftkit.testing.process.ProcessStartException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code scripts/bench e2e}: the end-to-end throughput run of issue #15. Starts a Kafka broker as its
 * own process, then for each side in turn — the demo (GiftKit, real profile), the bare baseline
 * ({@link io.giftkit.e2e.baseline.BaselineApplication}), and the demo with two instances — fresh
 * databases on the shared MariaDB, the application process(es), the open-loop sweep of
 * {@code io.giftkit.benchmarks.e2e.LoadGenerator} as a process of its own, and the books checked by
 * SQL afterwards (ledger rows against PAID orders). Writes {@code REPORT.md} with each side's
 * sustainable rate and GiftKit's as a ratio of the baseline's. Every process it started is killed at
 * the end, whatever happens.
 *
 * <pre>
 * java -cp &lt;demo test classpath&gt; io.giftkit.e2e.E2eRun --benchmarks-jar benchmarks/target/benchmarks.jar \
 *     --out benchmarks/results/2026-12-01-e2e --rates 200,400,500,600,700,800,1000,1200 --warmup 20s --duration 20s \
 *     --sides giftkit,baseline,giftkit-x2
 * </pre>
 */
public final class E2eRun {

  static final String SHARED_URL = "jdbc:mariadb://127.0.0.1:3306/";
  private static final Duration START = Duration.ofSeconds(120);
  private static final Duration SETTLE = Duration.ofSeconds(180);
  private static final Pattern SUSTAINABLE = Pattern.compile("Sustainable rate: \\*\\*(\\d+) ticks/s\\*\\*");

  private static boolean accessLog;
  private static boolean profile;
  private static String costRate;
  private static String jitWarmup;
  private static String jitWarmupRate;
  private static String tomcatThreads;

  private E2eRun() {}

  /** One side's outcome. */
  record Side(String name, int round, String label, String what, int instances, double sustainableTicks,
      long requests, Map<String, Long> cpuMillis, long paid, long ledger, long unknown, long failed, String note) {}

  /** CPU time used so far by each process that is still there. */
  static Map<String, Duration> cpu(Map<String, Long> pids) {
    Map<String, Duration> m = new LinkedHashMap<>();
    pids.forEach((name, pid) -> ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
        .ifPresent(d -> m.put(name, d)));
    return m;
  }

  /** The API requests an application served, from its Prometheus scrape (actuator requests left out). */
  static long requestsServed(String prometheus) {
    long n = 0;
    for (String line : prometheus.split("\n")) {
      if (line.startsWith("http_server_requests_seconds_count{") && line.contains("uri=\"/api/")) {
        n += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return n;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = options(args);
    Path out = Path.of(o.getOrDefault("--out", "benchmarks/results/e2e"));
    accessLog = Boolean.parseBoolean(o.getOrDefault("--access-log", "false"));
    profile = Boolean.parseBoolean(o.getOrDefault("--profile", "false"));
    costRate = o.getOrDefault("--cost-rate", "150");
    jitWarmup = o.getOrDefault("--jit-warmup", "60s");
    jitWarmupRate = o.getOrDefault("--jit-warmup-rate", "300");
    tomcatThreads = tomcatThreads(o.getOrDefault("--tomcat-threads", "32"));
    String jar = o.getOrDefault("--benchmarks-jar", "benchmarks/target/benchmarks.jar");
    List<String> sides = List.of(o.getOrDefault("--sides", "giftkit,baseline,giftkit-x2").split(","));
    // Rounds: the sides run in turn, round after round (g, b, g, b, …), so that a slow spell of the
    // shared machine lands on both; the report takes each side's median over the rounds.
    int rounds = Integer.parseInt(o.getOrDefault("--rounds", "1"));
    if (rounds < 1 || rounds > 9) {
      throw new IllegalArgumentException("--rounds must be in [1, 9], got " + rounds);
    }
    List<String> load = new ArrayList<>(List.of("--rates", o.getOrDefault("--rates", "200,400,500,600,700,800,1000,1200"),
        "--warmup", o.getOrDefault("--warmup", "20s"), "--duration", o.getOrDefault("--duration", "20s"),
        "--budget", o.getOrDefault("--budget", "50ms"), "--retries", o.getOrDefault("--retries", "1"),
        "--misses", o.getOrDefault("--misses", "2"), "--out", out.toString()));
    Files.createDirectories(out);
    // the broker's data and the processes' logs: a fresh directory each run, never under the results
    Path work = Path.of(o.getOrDefault("--work", "giftkit-demo/target/e2e"));
    wipe(work);
    Files.createDirectories(work);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    List<Side> results = new ArrayList<>();
    int code = 0;
    try (ProcessRegistry registry = new ProcessRegistry()) {
      KafkaProcess kafka = new KafkaProcess(registry, work.resolve("kafka"), java, classpath, 3);
      try {
        kafka.start(START);
        for (int round = 1; round <= rounds; round++) {
          for (String side : sides) {
            String label = rounds == 1 ? side : side + "-r" + round;
            kafka.createTopics(List.of(topic(label), topic(label) + ".DLT"), 3);
            results.add(runSide(side, round, label, registry, kafka, java, classpath, jar, load, out, work));
            System.out.println("e2e: " + results.get(results.size() - 1));
          }
        }
      } finally {
        kafka.close();
      }
      if (!registry.survivors().isEmpty()) {
        System.err.println("e2e: processes left alive: " + registry.survivors());
        code = 2;
      }
    } catch (ProcessStartException | IllegalStateException e) {
      System.err.println("e2e: harness error: " + e.getMessage());
      code = 2;
    }
    if (!results.isEmpty()) {
      Path report = writeReport(out, results, String.join(" ", args));
      System.out.println("e2e: report " + report);
      if (results.stream().anyMatch(r -> r.paid() != r.ledger())) {
        code = Math.max(code, 1);
      }
    }
    System.exit(code);
  }

  /** The request-thread cap both sides get, checked: a whole number in [1, 9999]. */
  static String tomcatThreads(String value) {
    if (!value.matches("[1-9][0-9]{0,3}")) {
      throw new IllegalArgumentException("--tomcat-threads must be a whole number in [1, 9999], got '" + value + "'");
    }
    return value;
  }

  static String topic(String side) {
    return "e2e-" + side;
  }

  private static Side runSide(String side, int round, String label, ProcessRegistry registry, KafkaProcess kafka,
      String java, String classpath, String jar, List<String> load, Path out, Path work) throws Exception {
    String db = "e2e_" + side.replace('-', '_');
    resetDatabases(db);
    Map<String, String> env = new LinkedHashMap<>();
    for (int s = 0; s < 10; s++) {
      env.put("GIFTKIT_SHARD_" + s + "_URL", SHARED_URL + db + "_shard_" + s);
    }
    env.put("GIFTKIT_CONTROL_URL", SHARED_URL + db + "_control");
    env.put("GIFTKIT_PAYMENT_URL", SHARED_URL + db + "_payments");
    env.put("GIFTKIT_DB_USER", "root");
    env.put("GIFTKIT_DB_PASSWORD", "");
    env.put("GIFTKIT_REDIS_URL", "redis://127.0.0.1:6379");
    env.put("KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.put("BASELINE_TOPIC", topic(label));
    env.put("GIFTKIT_ETCD_ENDPOINTS", ""); // no etcd: the baseline has no discovery either (a static payment list)
    env.put("BASELINE_MIN_IDLE", "10"); // the baseline's pools fixed-size too (the demo's: see the arguments below)
    boolean baseline = side.startsWith("baseline");
    int instances = side.endsWith("-x2") ? 2 : 1;
    List<String> targets = new ArrayList<>();
    List<ManagedProcess> apps = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      int port = ManagedProcess.freePort();
      List<String> command = new ArrayList<>(List.of(java, "-Xms1g", "-Xmx1g",
          "-Xlog:gc:file=" + work.resolve(label + "-" + (i + 1) + "-gc.log"), "-cp", classpath));
      if (profile) { // a JFR recording of where the application's CPU goes (jfr print --events jdk.ExecutionSample)
        command.add(3, "-XX:StartFlightRecording=settings=profile,filename=" + work.resolve(label + "-" + (i + 1) + ".jfr"));
      }
      if (baseline) {
        command.add("io.giftkit.e2e.baseline.BaselineApplication");
      } else {
        command.addAll(List.of("io.giftkit.demo.GiftDemoApplication", "--spring.profiles.active=real",
            "--giftkit.demo.admin-enabled=false", "--giftkit.demo.gift-topic=" + topic(label),
            "--giftkit.mq.consumers.settlement.topics=" + topic(label),
            // the sweep compares providers, orders and ledger; the baseline has no such sweep
            "--giftkit.demo.reconcile.interval=1h",
            // the same room policy as the baseline: every room 5 s in memory (the demo's default keeps hot rooms only)
            "--giftkit.cache.caches.rooms.l1-policy=all",
            // fixed-size pools on both sides: no connection is opened in the middle of a burst
            "--giftkit.shard.min-idle=10", "--spring.datasource.hikari.minimum-idle=10",
            "--giftkit.demo.payment.min-idle=10"));
      }
      // Both sides alike: at most --tomcat-threads request threads (32; Tomcat's default is 200). On two
      // cores, a hiccup let hundreds of request threads pile up runnable, and the scheduler's round over
      // them turned a short stall into sends of 200-900 ms; capped, requests wait in the queue instead.
      command.addAll(List.of("--server.port=" + port, "--spring.main.banner-mode=off",
          "--server.tomcat.threads.max=" + tomcatThreads));
      if (accessLog) { // each request's server-side time (for finding where a stall is), off for the measured run
        command.addAll(List.of("--server.tomcat.accesslog.enabled=true",
            "--server.tomcat.accesslog.directory=" + work.toAbsolutePath(),
            "--server.tomcat.accesslog.prefix=" + label + "-" + (i + 1) + "-access", "--server.tomcat.accesslog.suffix=.log",
            "--server.tomcat.accesslog.file-date-format=", "--server.tomcat.accesslog.pattern=%{begin:msec}t %m %U %s %{us}T"));
      }
      ManagedProcess app = new ManagedProcess(registry, label + "-" + (i + 1), command, env,
          work.resolve(label + "-" + (i + 1) + ".log"));
      apps.add(app);
      targets.add("http://127.0.0.1:" + port);
    }
    apps.forEach(ManagedProcess::start);
    HttpClient probe = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    for (int i = 0; i < apps.size(); i++) {
      URI ready = URI.create(targets.get(i) + (baseline ? "/api/rooms/1/panel?uid=1" : "/actuator/health/readiness"));
      apps.get(i).awaitReady(START, () -> probe.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }
    System.out.println("e2e: " + label + " ready at " + targets);
    // JIT warm-up, not judged, in the sweep's own generator process: a freshly started JVM compiles for
    // its first minute (a sweep starting on a cold application measured the compiler, first rate's p50
    // over 100 ms), and a fresh generator meets its first rate cold (a burst of hundreds of requests
    // open while it caught up, then a stall in most sweeps' first measured rate, on both sides)
    List<String> sweep = new ArrayList<>(generator(java, jar, work, label, targets));
    sweep.addAll(load);
    sweep.addAll(List.of("--jit-warmup", jitWarmup, "--jit-warmup-rate", jitWarmupRate));
    run(sweep, side);
    Map<String, Long> pids = new LinkedHashMap<>();
    for (int i = 0; i < apps.size(); i++) {
      pids.put("application" + (apps.size() > 1 ? " " + (i + 1) : ""), apps.get(i).pid());
    }
    pids.put("Kafka broker", kafka.process().pid());
    ProcessHandle.allProcesses().forEach(p -> p.info().command().ifPresent(c -> {
      if (c.endsWith("mariadbd") || c.endsWith("mysqld")) {
        pids.put("MariaDB", p.pid());
      } else if (c.endsWith("redis-server")) {
        pids.putIfAbsent("Redis", p.pid());
      }
    }));
    // The cost phase: the warmed-up system at one fixed rate, the same for every side, CPU measured
    // per process around it and requests counted by the applications themselves.
    long servedBefore = scrape(probe, targets, work, label, "before-cost");
    Map<String, Duration> before = cpu(pids);
    List<String> cost = new ArrayList<>(generator(java, jar, work, label + "-cost", targets));
    cost.addAll(List.of("--rates", costRate, "--warmup", "2s", "--duration", "20s", "--keep-going", "--out",
        work.resolve("cost").toString()));
    run(cost, side);
    Map<String, Duration> after = cpu(pids);
    long requests = scrape(probe, targets, work, label, "after-cost") - servedBefore;
    Map<String, Long> cpuMillis = new LinkedHashMap<>();
    for (String k : pids.keySet()) {
      if (before.containsKey(k) && after.containsKey(k)) {
        cpuMillis.put(k, after.get(k).minus(before.get(k)).toMillis());
      }
    }
    long[] books = settle(db);
    if (profile) {
      for (ManagedProcess app : apps) { // a clean stop, so that the JVM writes its recording
        ProcessHandle.of(app.pid()).ifPresent(ProcessHandle::destroy);
        ProcessHandle.of(app.pid()).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
      }
    }
    apps.forEach(ManagedProcess::kill);
    String md = Files.readString(out.resolve(label + ".md"));
    Matcher m = SUSTAINABLE.matcher(md);
    double ticks = m.find() ? Double.parseDouble(m.group(1)) : 0;
    String what = baseline ? "bare baseline (hand-written JDBC, KafkaProducer, consumer loop)"
        : "GiftKit demo, real profile";
    return new Side(side, round, label, what, instances, ticks, requests, cpuMillis, books[0], books[1], books[2], books[3],
        books[0] == books[1] ? "" : "ledger did not reach the PAID orders within " + SETTLE.toSeconds() + " s");
  }

  private static List<String> generator(String java, String jar, Path work, String label, List<String> targets) {
    return List.of(java, "-Xmx1g", "-Xlog:gc:file=" + work.resolve(label + "-load-gc.log"), "-cp", jar,
        "io.giftkit.benchmarks.e2e.LoadGenerator", "--target", String.join(",", targets), "--label", label);
  }

  private static void run(List<String> command, String side) throws IOException, InterruptedException {
    Process generator = new ProcessBuilder(command).inheritIO().start();
    Thread killer = new Thread(generator::destroyForcibly, "e2e-stop-load-generator"); // when this JVM is stopped
    Runtime.getRuntime().addShutdownHook(killer);
    int exit;
    try {
      exit = generator.waitFor();
    } finally {
      generator.destroyForcibly();
      Runtime.getRuntime().removeShutdownHook(killer);
    }
    if (exit != 0) {
      throw new IllegalStateException("the load generator exited with " + exit + " for " + side);
    }
  }

  /** Saves each application's Prometheus scrape and returns the API requests they served so far. */
  private static long scrape(HttpClient probe, List<String> targets, Path work, String side, String when)
      throws IOException, InterruptedException {
    long requests = 0;
    for (int i = 0; i < targets.size(); i++) {
      HttpResponse<String> metrics = probe.send(HttpRequest.newBuilder(URI.create(targets.get(i) + "/actuator/prometheus"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      Files.writeString(work.resolve(side + "-" + (i + 1) + "-metrics-" + when + ".txt"), metrics.body());
      requests += requestsServed(metrics.body());
    }
    return requests;
  }

  private static void wipe(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private static void resetDatabases(String db) throws SQLException {
    try (Connection c = DriverManager.getConnection(SHARED_URL, "root", ""); Statement st = c.createStatement()) {
      List<String> names = new ArrayList<>();
      for (int s = 0; s < 10; s++) {
        names.add(db + "_shard_" + s);
      }
      names.add(db + "_control");
      names.add(db + "_payments");
      for (String n : names) {
        st.execute("DROP DATABASE IF EXISTS `" + n + "`");
        st.execute("CREATE DATABASE `" + n + "`");
      }
    }
  }

  /**
   * Waits until the ledger holds one row per PAID order (or {@link #SETTLE} passes).
   *
   * @return PAID orders, ledger rows, PAYMENT_UNKNOWN orders, FAILED orders
   */
  static long[] settle(String db) throws Exception {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    long[] books;
    do {
      books = books(db);
      if (books[0] == books[1] && books[2] == 0) {
        return books;
      }
      Thread.sleep(1_000); // polling the databases for settlement to finish: no event to wait on across processes
    } while (System.nanoTime() < deadline);
    return books;
  }

  static long[] books(String db) throws SQLException {
    long paid = 0;
    long unknown = 0;
    long failed = 0;
    long ledger;
    try (Connection c = DriverManager.getConnection(SHARED_URL, "root", ""); Statement st = c.createStatement()) {
      for (int s = 0; s < 10; s++) {
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = '"
            + db + "_shard_" + s + "' AND table_name LIKE 'gift\\_order\\_%'")) {
          while (rs.next()) {
            tables.add(rs.getString(1));
          }
        }
        for (String t : tables) {
          try (ResultSet rs = st.executeQuery("SELECT status, COUNT(*) FROM `" + db + "_shard_" + s + "`.`" + t
              + "` GROUP BY status")) {
            while (rs.next()) {
              switch (rs.getString(1)) {
                case "PAID" -> paid += rs.getLong(2);
                case "FAILED" -> failed += rs.getLong(2);
                default -> unknown += rs.getLong(2);
              }
            }
          }
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM `" + db + "_control`.gift_ledger")) {
        rs.next();
        ledger = rs.getLong(1);
      }
    }
    return new long[] {paid, ledger, unknown, failed};
  }

  private static Path writeReport(Path out, List<Side> sides, String args) throws IOException {
    StringBuilder md = new StringBuilder("# End-to-end throughput: GiftKit against the bare baseline\n\n");
    md.append(String.format(Locale.ROOT, "Run %s on %d cores, %d MiB heap limit per application. Command: "
        + "`scripts/bench e2e %s`. Each side ran alone, on fresh databases on the shared MariaDB, with one Kafka broker "
        + "process and Redis; the load generator is a process of its own on the same machine. Before its sweep each "
        + "side ran %s at %s ticks/s from the sweep's own generator process, not judged (JIT warm-up). Both sides bound the privileged-gift call (50 ms) and "
        + "the charge (200 ms), keep every room 5 s in memory, use fixed-size connection pools and at most %s Tomcat "
        + "request threads; the demo runs without etcd (the baseline has no discovery). A tick is one draw of the "
        + "mix (45 %% panels, 25 %% room reads, 30 %% sends, 5 %% of sends retried with the same request id): "
        + "orders/s = 0.3 × ticks/s.%n%n", Instant.now(), Runtime.getRuntime().availableProcessors(), 1024, args,
        jitWarmup, jitWarmupRate, tomcatThreads));
    boolean rounds = sides.stream().anyMatch(s -> s.round() > 1);
    md.append(rounds ? "| round " : "").append("| side | what | instances | sustainable (send p99 ≤ budget) | orders/s"
        + " | PAID | ledger rows | unknown | failed |\n").append(rounds ? "|---" : "").append("|---|---|---|---|---|---|---|---|---|\n");
    for (Side s : sides) {
      md.append(rounds ? "| " + s.round() + " " : "").append(String.format(Locale.ROOT,
          "| [%s](%s.md) | %s | %d | %.0f ticks/s | %.0f | %d | %d | %d | %d |%n", s.name(), s.label(), s.what(),
          s.instances(), s.sustainableTicks(), 0.3 * s.sustainableTicks(), s.paid(), s.ledger(), s.unknown(),
          s.failed()));
    }
    md.append(ratios(sides));
    for (Side s : sides) {
      if (!s.note().isEmpty()) {
        md.append("\n**").append(s.label()).append("**: ").append(s.note()).append('\n');
      }
    }
    md.append("\n## Where the CPU goes\n\nAfter its sweep, each side (warmed up) ran " + costRate + " ticks/s for 20 s; the table gives "
        + "the CPU time each process used during that phase per API request served (`ProcessHandle` CPU time before and "
        + "after; requests counted by the applications' own `http.server.requests`), background work included. "
        + "At a low rate the fixed background work (pollers, relays, heartbeats) weighs on each request, so these "
        + "figures compare the sides; they do not bound the rate.\n\n");
    List<String> procs = new ArrayList<>();
    for (Side s : sides) {
      s.cpuMillis().keySet().stream().filter(k -> !procs.contains(k)).forEach(procs::add);
    }
    md.append("| side | requests |");
    procs.forEach(p -> md.append(' ').append(p).append(" |"));
    md.append(" sum |\n|---|---|");
    procs.forEach(p -> md.append("---|"));
    md.append("---|\n");
    for (Side s : sides) {
      md.append("| ").append(s.label()).append(" | ").append(s.requests()).append(" |");
      double sum = 0;
      for (String p : procs) {
        Long ms = s.cpuMillis().get(p);
        double per = ms == null || s.requests() == 0 ? 0 : (double) ms / s.requests();
        sum += per;
        md.append(ms == null ? " — |" : String.format(Locale.ROOT, " %.2f ms |", per));
      }
      md.append(String.format(Locale.ROOT, " %.2f ms |%n", sum));
    }
    md.append("\nBooks: after each side's sweep the harness waits until every order is settled and the ledger holds one "
        + "row per PAID order, then counts both by SQL (`E2eRun.books`).\n");
    Path report = out.resolve("REPORT.md");
    Files.writeString(report, md);
    return report;
  }

  /**
   * GiftKit's sustainable rate as a ratio of the baseline's: of the one round, or, over several rounds,
   * the ratio of the two sides' medians, with each round's own ratio beside it.
   */
  static String ratios(List<Side> sides) {
    List<Side> gk = sides.stream().filter(s -> s.name().equals("giftkit")).toList();
    List<Side> base = sides.stream().filter(s -> s.name().equals("baseline")).toList();
    if (gk.isEmpty() || base.isEmpty()) {
      return "";
    }
    if (gk.size() == 1 && base.size() == 1) {
      return base.get(0).sustainableTicks() <= 0 ? "" : String.format(Locale.ROOT,
          "%nGiftKit's sustainable rate is **%.2f×** the bare baseline's (same run).%n",
          gk.get(0).sustainableTicks() / base.get(0).sustainableTicks());
    }
    double g = median(gk.stream().mapToDouble(Side::sustainableTicks).toArray());
    double b = median(base.stream().mapToDouble(Side::sustainableTicks).toArray());
    StringBuilder each = new StringBuilder();
    for (Side x : gk) {
      base.stream().filter(y -> y.round() == x.round()).findFirst().ifPresent(y ->
          each.append(each.length() == 0 ? "" : ", ").append(x.sustainableTicks() > 0 && y.sustainableTicks() > 0
              ? String.format(Locale.ROOT, "round %d: %.0f / %.0f = %.2f×", x.round(), x.sustainableTicks(),
                  y.sustainableTicks(), x.sustainableTicks() / y.sustainableTicks())
              : String.format(Locale.ROOT, "round %d: %s / %s, no ratio", x.round(), rate(x), rate(y))));
    }
    boolean none = sides.stream().anyMatch(x -> x.sustainableTicks() <= 0);
    return String.format(Locale.ROOT, "%nMedian sustainable rate over %d rounds (sides alternating%s): GiftKit %.0f ticks/s,"
        + " bare baseline %.0f ticks/s: GiftKit's is **%s** the baseline's (same run). Each round: %s.%n", gk.size(),
        none ? "; a sweep that sustained no rate counts as 0, so this median says little" : "", g, b,
        b > 0 ? String.format(Locale.ROOT, "%.2f×", g / b) : "not comparable (the baseline sustained no rate)", each);
  }

  private static String rate(Side s) {
    return s.sustainableTicks() > 0 ? String.format(Locale.ROOT, "%.0f", s.sustainableTicks()) : "none";
  }

  static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    int n = v.length;
    return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --option value pairs, but got '" + args[i] + "'");
      }
      o.put(args[i], args[++i]);
    }
    return o;
  }
}
