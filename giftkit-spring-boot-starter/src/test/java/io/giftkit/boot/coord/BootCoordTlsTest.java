package io.giftkit.boot.coord;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.coord.EtcdLock;
import io.giftkit.coord.EtcdLocks;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * giftkit.coord.ssl.bundle: an etcd member of the test's own that serves its clients over TLS only, with
 * a self-signed certificate made by openssl for 127.0.0.1. The starter's client trusts it through a
 * Spring Boot SSL bundle; with a bundle trusting another certificate the handshake fails (health DOWN
 * naming the endpoint; etcd logs the client's "unknown certificate").
 */
class BootCoordTlsTest {

  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static String endpoint;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, GiftkitAutoConfiguration.class,
          GiftkitCoordAutoConfiguration.class));

  @BeforeAll
  static void startTlsEtcd() {
    registry = new ProcessRegistry();
    for (String name : List.of("etcd", "other")) {
      ManagedProcess.runToCompletion(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
          dir.resolve(name + "-key.pem").toString(), "-out", dir.resolve(name + ".pem").toString(), "-days", "1",
          "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"), Map.of(),
          dir.resolve(name + "-openssl.log"), Duration.ofSeconds(60));
    }
    int port = ManagedProcess.freePort();
    String peer = "http://127.0.0.1:" + ManagedProcess.freePort();
    endpoint = "https://127.0.0.1:" + port;
    ManagedProcess etcd = new ManagedProcess(registry, "etcd-tls", List.of("etcd", "--name", "tls",
        "--data-dir", dir.resolve("data").toString(), "--listen-client-urls", endpoint,
        "--advertise-client-urls", endpoint, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "tls=" + peer, "--cert-file", dir.resolve("etcd.pem").toString(),
        "--key-file", dir.resolve("etcd-key.pem").toString(), "--logger", "zap", "--log-outputs", "stderr"),
        Map.of(), dir.resolve("etcd.log"));
    etcd.start();
    etcd.awaitReady(Duration.ofSeconds(30), () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return true;
      }
    });
  }

  @AfterAll
  static void stop() {
    registry.close();
    assertThat(registry.survivors()).as("etcd processes left behind").isEmpty();
  }

  @Test
  void theSslBundleReachesTheClient() {
    runner.withPropertyValues("spring.ssl.bundle.pem.etcd.truststore.certificate=file:" + dir.resolve("etcd.pem"),
            "giftkit.coord.endpoints=" + endpoint, "giftkit.coord.ssl.bundle=etcd", "giftkit.coord.timeout=3s")
        .run(context -> {
          assertThat(context).hasNotFailed();
          try (EtcdLock lock = context.getBean(EtcdLocks.class).tryLock("over-tls", Duration.ofSeconds(3))
              .orElseThrow()) {
            assertThat(lock.fencingToken()).isPositive();
          }
          Health health = context.getBean("giftkitCoordHealthIndicator", HealthIndicator.class).health();
          assertThat(health.getStatus()).isEqualTo(Status.UP);
        });
  }

  @Test
  void aBundleThatDoesNotTrustTheCertificateIsRefused() {
    runner.withPropertyValues("spring.ssl.bundle.pem.other.truststore.certificate=file:" + dir.resolve("other.pem"),
            "giftkit.coord.endpoints=" + endpoint, "giftkit.coord.ssl.bundle=other", "giftkit.coord.timeout=2s")
        .run(context -> {
          assertThat(context).hasNotFailed();
          Health health = context.getBean("giftkitCoordHealthIndicator", HealthIndicator.class).health();
          assertThat(health.getStatus()).isEqualTo(Status.DOWN);
          // gRPC keeps retrying, so the client sees no answer; etcd's log shows why: the client refused
          // the server's certificate during the handshake
          assertThat(java.nio.file.Files.readString(dir.resolve("etcd.log")))
              .contains("rejected connection").contains("tls: unknown certificate");
          assertThat(String.valueOf(health.getDetails().get("error"))).contains(endpoint);
        });
  }

  @Test
  void anUnknownBundleIsNamed() {
    runner.withPropertyValues("giftkit.coord.endpoints=" + endpoint, "giftkit.coord.ssl.bundle=nope")
        .run(context -> assertThat(new io.giftkit.boot.GiftkitFailureAnalyzer().analyze(context.getStartupFailure())
            .getDescription()).isEqualTo(
                "giftkit.coord.ssl.bundle must name a bundle under spring.ssl.bundle.*, but was \"nope\""));
  }
}
