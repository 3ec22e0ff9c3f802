package io.giftkit.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default's Kafka: one KRaft node (broker and controller) running inside the demo's JVM,
 * from Apache Kafka's server artifact ({@code org.apache.kafka:kafka_2.13}, a dependency of the demo
 * only), on free loopback ports, with its log in a temporary directory deleted on {@link #close()}.
 * It is what {@code kafka-server-start.sh} runs, formatted as {@code kafka-storage.sh format} does; the
 * demo's tests use their own broker from the test harness.
 *
 * <p>Topics are not created automatically (the demo creates the ones it uses), new groups get their
 * first assignment at once ({@code group.initial.rebalance.delay.ms=0}), and internal topics have one
 * replica. Not for production: one node, no durability across restarts.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path dir;
  private final int port;
  private final KafkaRaftServer server;

  private EmbeddedKafka(Path dir, int port, KafkaRaftServer server) {
    this.dir = dir;
    this.port = port;
    this.server = server;
  }

  /**
   * Formats a fresh log directory and starts the node; returns once it answers on its port.
   *
   * @return the running node
   * @throws IllegalStateException if formatting fails or the node does not answer within 60 s
   */
  public static EmbeddedKafka start() {
    // Kafka's server calls Exit.exit/halt on fatal errors; inside the demo that would end the
    // application: log it instead (the demo's health then shows the consumers failing).
    Exit.setExitProcedure((code, message) -> LOG.error("The embedded Kafka node asked to exit with {} ({}); refused",
        code, message));
    Exit.setHaltProcedure((code, message) -> LOG.error("The embedded Kafka node asked to halt with {} ({}); refused",
        code, message));
    long begin = System.nanoTime();
    Path dir;
    try {
      dir = Files.createTempDirectory("giftkit-demo-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the embedded Kafka node's directory", e);
    }
    KafkaRaftServer server = null;
    try {
      int port = freePort();
      Properties props = properties(dir, port, freePort());
      format(dir, props);
      server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      EmbeddedKafka kafka = new EmbeddedKafka(dir, port, server);
      kafka.awaitReady();
      LOG.info("Started an embedded Kafka node (KRaft) at {} in {} ms, log in {}", kafka.bootstrapServers(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin), dir);
      return kafka;
    } catch (RuntimeException e) {
      if (server != null) {
        server.shutdown();
        server.awaitShutdown();
      }
      delete(dir);
      throw e;
    }
  }

  /** @return {@code 127.0.0.1:<port>} */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** @return the node's directory (its configuration and log), deleted on {@link #close()} */
  Path directory() {
    return dir;
  }

  /** Stops the node and deletes its log directory. */
  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    delete(dir);
  }

  static Properties properties(Path dir, int port, int controllerPort) {
    Properties p = new Properties();
    p.putAll(Map.ofEntries(
        Map.entry("process.roles", "broker,controller"),
        Map.entry("node.id", "1"),
        Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
        Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
        Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
        Map.entry("controller.listener.names", "CONTROLLER"),
        Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
        Map.entry("inter.broker.listener.name", "PLAINTEXT"),
        Map.entry("log.dirs", dir.resolve("data").toString()),
        Map.entry("num.partitions", "1"),
        Map.entry("auto.create.topics.enable", "false"),
        Map.entry("group.initial.rebalance.delay.ms", "0"),
        Map.entry("offsets.topic.replication.factor", "1"),
        Map.entry("offsets.topic.num.partitions", "5"),
        Map.entry("transaction.state.log.replication.factor", "1"),
        Map.entry("transaction.state.log.min.isr", "1"),
        Map.entry("share.coordinator.state.topic.replication.factor", "1"),
        Map.entry("share.coordinator.state.topic.min.isr", "1")));
    return p;
  }

  /** What {@code kafka-storage.sh format --cluster-id <new> --config <file>} does. */
  private static void format(Path dir, Properties props) {
    Path config = dir.resolve("server.properties");
    try (var out = Files.newBufferedWriter(config)) {
      props.store(out, "the demo's embedded Kafka node");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + config, e);
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int code;
    try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      code = StorageTool.execute(new String[] {"format", "--cluster-id", Uuid.randomUuid().toString(),
          "--config", config.toString()}, print);
    }
    if (code != 0) {
      throw new IllegalStateException("formatting the embedded Kafka node's log directory " + dir + " failed ("
          + code + "): " + output.toString(StandardCharsets.UTF_8).strip());
    }
  }

  private void awaitReady() {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000))) {
      admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for the embedded Kafka node at " + bootstrapServers(), e);
    } catch (Exception e) {
      throw new IllegalStateException("the embedded Kafka node at " + bootstrapServers()
          + " did not answer within 60 s", e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port for the embedded Kafka node", e);
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      LOG.warn("could not delete the embedded Kafka node's directory {}: {}", dir, e.toString());
    }
  }
}
