package io.giftkit.benchmarks.coord;

import io.etcd.jetcd.Client;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ProcessRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One etcd member the benchmark starts itself (the {@code etcd} binary, free loopback ports, data in a
 * temporary directory) and a jetcd client on it; {@link #close()} closes the client, kills the member
 * and deletes the data.
 */
final class EtcdFixture implements AutoCloseable {

  private final Path dir;
  private final ProcessRegistry processes = new ProcessRegistry();
  private final EtcdCluster etcd;
  private final Client client;

  EtcdFixture() {
    try {
      dir = Files.createTempDirectory("giftkit-bench-etcd");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    etcd = new EtcdCluster(processes, dir, 1);
    etcd.start(Duration.ofSeconds(30));
    client = Client.builder().endpoints(etcd.clientUrl(0)).build();
  }

  Client client() {
    return client;
  }

  @Override
  public void close() {
    try {
      client.close();
    } finally {
      etcd.close();
      processes.close();
      if (!processes.survivors().isEmpty()) {
        throw new IllegalStateException("etcd processes left behind: " + processes.survivors());
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
