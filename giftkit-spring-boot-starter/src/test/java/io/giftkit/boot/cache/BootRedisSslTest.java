package io.giftkit.boot.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.cache.KeyCodec;
import io.giftkit.cache.TieredCache;
import io.giftkit.cache.TieredCacheListener;
import io.giftkit.cache.ValueCodec;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code spring.data.redis.ssl.*} with an SSL bundle: a real {@code redis-server} of the test's own
 * that speaks TLS only ({@code --port 0 --tls-port}), with a self-signed certificate made by
 * {@code openssl} for 127.0.0.1; the caches trust it through the bundle, and only through it.
 */
class BootRedisSslTest {

  private static ProcessRegistry registry;
  private static Path dir;
  private static int port;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, DataRedisAutoConfiguration.class,
          GiftkitAutoConfiguration.class, GiftkitCacheAutoConfiguration.class));

  @BeforeAll
  static void startTlsRedis() throws Exception {
    dir = Files.createTempDirectory("giftkit-redis-tls");
    registry = new ProcessRegistry();
    try {
      ManagedProcess.runToCompletion(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
          dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "1", "-subj",
          "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"), Map.of(),
          dir.resolve("openssl.log"), Duration.ofSeconds(60));
      port = ManagedProcess.freePort();
      ManagedProcess redis = new ManagedProcess(registry, "redis-tls", List.of("redis-server", "--port", "0",
          "--tls-port", Integer.toString(port), "--bind", "127.0.0.1", "--tls-cert-file",
          dir.resolve("cert.pem").toString(), "--tls-key-file", dir.resolve("key.pem").toString(),
          "--tls-ca-cert-file", dir.resolve("cert.pem").toString(), "--tls-auth-clients", "no", "--save", "",
          "--appendonly", "no", "--dir", dir.toString()), Map.of(), dir.resolve("redis.log"));
      redis.start();
      redis.awaitReady(Duration.ofSeconds(30), () -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
          return true;
        }
      });
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  @AfterAll
  static void stopRedis() {
    registry.close();
    assertThat(registry.survivors()).as("redis-server processes left running").isEmpty();
  }

  private static TieredCache<Long, String> rooms(GiftkitCaches caches, AtomicInteger loads, List<Throwable> downs) {
    return caches.create("rooms", b -> b.keyPrefix("tls-rooms").keys(KeyCodec.longs()).values(ValueCodec.utf8())
        .loader(id -> {
          loads.incrementAndGet();
          return "room-" + id;
        }).redisTimeout(Duration.ofSeconds(2)).listener(new TieredCacheListener() {
          @Override
          public void onRedisDown(String cacheName, Throwable cause) {
            downs.add(cause);
          }
        }));
  }

  @Test
  void theSslBundleReachesTheClient() {
    runner.withPropertyValues("spring.ssl.bundle.pem.redis.truststore.certificate=file:" + dir.resolve("cert.pem"),
            "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + port,
            "spring.data.redis.ssl.enabled=true", "spring.data.redis.ssl.bundle=redis")
        .run(context -> {
          assertThat(context).hasNotFailed();
          GiftkitRedisConnection connection = context.getBean(GiftkitRedisConnection.class);
          assertThat(connection.uris().get(0).isSsl()).isTrue();
          assertThat(connection.options().getSslOptions()).isNotNull();
          AtomicInteger loads = new AtomicInteger();
          List<Throwable> downs = new CopyOnWriteArrayList<>();
          GiftkitCaches caches = context.getBean(GiftkitCaches.class);
          TieredCache<Long, String> a = rooms(caches, loads, downs);
          assertThat(a.isRedisConnected()).as("over TLS, trusting the bundle's certificate: " + downs).isTrue();
          assertThat(a.get(1L)).isEqualTo("room-1");
          TieredCache<Long, String> b = rooms(caches, loads, downs);
          assertThat(b.get(1L)).isEqualTo("room-1");
          assertThat(loads).as("the second instance read it from Redis over TLS").hasValue(1);
          assertThat(downs).isEmpty();
        });
  }

  @Test
  void withoutTheBundleTheSelfSignedCertificateIsRefused() {
    runner.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + port,
            "spring.data.redis.ssl.enabled=true")
        .run(context -> {
          AtomicInteger loads = new AtomicInteger();
          List<Throwable> downs = new CopyOnWriteArrayList<>();
          TieredCache<Long, String> a = rooms(context.getBean(GiftkitCaches.class), loads, downs);
          assertThat(a.isRedisConnected()).isFalse();
          assertThat(a.get(1L)).as("served by the loader").isEqualTo("room-1");
          StringBuilder chain = new StringBuilder();
          for (Throwable t = downs.get(0); t != null; t = t.getCause()) {
            chain.append(t).append('\n');
          }
          assertThat(chain.toString()).containsIgnoringCase("certification path");
        });
  }
}
