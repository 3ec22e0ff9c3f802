package io.giftkit.demo.chaos;

import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One instance of the gift application as its own JVM ({@code GiftDemoApplication}, real profile),
 * on its own port, configured through the environment. Ready means
 * {@code GET /actuator/health/readiness} answers 200.
 */
final class AppInstance {

  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private final int index;
  private final int port;
  private final ManagedProcess process;
  private final HttpClient probeClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  AppInstance(ProcessRegistry registry, int index, String java, String classpath, Map<String, String> env, Path dir) {
    this.index = index;
    this.port = ManagedProcess.freePort();
    this.process = new ManagedProcess(registry, name(index), List.of(java, "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC",
        "-cp", classpath, "io.giftkit.demo.GiftDemoApplication", "--spring.profiles.active=real",
        "--server.port=" + port, "--giftkit.demo.admin-enabled=false", "--spring.main.banner-mode=off"),
        env, dir.resolve(name(index) + ".log"));
  }

  static String name(int index) {
    return "app-" + (index + 1);
  }

  String name() {
    return name(index);
  }

  URI base() {
    return URI.create("http://127.0.0.1:" + port);
  }

  ManagedProcess process() {
    return process;
  }

  void start() {
    process.start();
  }

  void awaitReady() {
    process.awaitReady(START_TIMEOUT, this::ready);
  }

  boolean ready() throws Exception {
    HttpResponse<Void> r = probeClient.send(HttpRequest.newBuilder(base().resolve("/actuator/health/readiness"))
        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
    return r.statusCode() == 200;
  }
}
