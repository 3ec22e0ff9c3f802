package io.giftkit.testing.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) run as its own JVM:
 * {@code java -cp <classpath> kafka.Kafka server.properties}, from Apache Kafka's Maven artifacts
 * (the {@code kafka_2.13} server jar and its dependencies must be on {@code classpath}). Its storage is
 * formatted once with {@code kafka.tools.StorageTool format --cluster-id … --config …}; after a
 * {@link #kill()} it restarts on the same data directory and ports.
 *
 * <p>Settings: {@code group.initial.rebalance.delay.ms=0}, replication factors 1,
 * {@code auto.create.topics.enable=true}, {@code num.partitions} as given, and a broker session of 4 s
 * so that a broker killed with {@code SIGKILL} can register again ~4 s later (the default 9 s would
 * keep its restart waiting on {@code DUPLICATE_BROKER_REGISTRATION}).
 *
 * <p>Ready means: the admin client reaches it and every partition of the watched topics has a leader.
 * Not thread-safe; one test thread drives it.
 */
public final class KafkaProcess implements AutoCloseable {

  private final ManagedProcess process;
  private final int port;
  private final Admin admin;
  private final List<String> watched = new ArrayList<>();

  /**
   * Writes the configuration and formats the storage under {@code dir} (which must be empty or absent).
   *
   * @param registry kills it at the end
   * @param dir its directory: {@code server.properties}, {@code data/}, {@code kafka.log}
   * @param java the {@code java} executable
   * @param classpath a classpath holding Kafka's server artifacts
   * @param partitions {@code num.partitions}
   */
  public KafkaProcess(ProcessRegistry registry, Path dir, String java, String classpath, int partitions) {
    this.port = ManagedProcess.freePort();
    int controllerPort = ManagedProcess.freePort();
    Path data = dir.resolve("data");
    Path properties = dir.resolve("server.properties");
    Path logback = dir.resolve("logback.xml");
    try {
      Files.createDirectories(dir);
      Files.writeString(properties, String.join("\n",
          "process.roles=broker,controller",
          "node.id=1",
          "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
          "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
          "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
          "inter.broker.listener.name=PLAINTEXT",
          "log.dirs=" + data,
          "num.partitions=" + partitions,
          "auto.create.topics.enable=true",
          "group.initial.rebalance.delay.ms=0",
          "offsets.topic.replication.factor=1",
          "offsets.topic.num.partitions=5",
          "transaction.state.log.replication.factor=1",
          "transaction.state.log.min.isr=1",
          "share.coordinator.state.topic.replication.factor=1",
          "share.coordinator.state.topic.min.isr=1",
          "broker.session.timeout.ms=4000",
          "broker.heartbeat.interval.ms=1000",
          "") );
      // Kafka logs through SLF4J; without a configuration Logback would print DEBUG
      Files.writeString(logback, """
          <configuration>
            <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
              <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
            </appender>
            <logger name="kafka.server.KafkaRaftServer" level="INFO"/>
            <logger name="kafka.server.BrokerLifecycleManager" level="INFO"/>
            <root level="WARN"><appender-ref ref="OUT"/></root>
          </configuration>
          """);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> jvm = List.of(java, "-Xms256m", "-Xmx512m", "-XX:+UseSerialGC",
        "-Dlogback.configurationFile=" + logback, "-cp", classpath);
    List<String> format = new ArrayList<>(jvm);
    format.addAll(List.of("kafka.tools.StorageTool", "format", "--cluster-id", Uuid.randomUuid().toString(),
        "--config", properties.toString(), "--ignore-formatted"));
    ManagedProcess.runToCompletion(format, Map.of(), dir.resolve("format.log"), Duration.ofSeconds(60));
    List<String> server = new ArrayList<>(jvm);
    server.addAll(List.of("kafka.Kafka", properties.toString()));
    this.process = new ManagedProcess(registry, "kafka", server, Map.of(), dir.resolve("kafka.log"));
    this.admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
        AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
  }

  /** @return {@code 127.0.0.1:port} */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** @return the process (for its PID and log) */
  public ManagedProcess process() {
    return process;
  }

  /**
   * Starts the broker and waits until it is ready.
   *
   * @throws ProcessStartException if it exits or is not ready within {@code timeout}
   */
  public void start(Duration timeout) {
    process.start();
    process.awaitReady(timeout, this::ready);
  }

  /**
   * Creates topics (existing ones are left alone) and watches them for readiness.
   *
   * @param partitions partitions of each
   */
  public void createTopics(Collection<String> names, int partitions) throws InterruptedException {
    List<NewTopic> topics = names.stream().map(n -> new NewTopic(n, partitions, (short) 1)).collect(Collectors.toList());
    try {
      admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("creating topics " + names + " failed: " + e.getCause(), e.getCause());
      }
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("creating topics " + names + " timed out", e);
    }
    watched.addAll(names);
  }

  /** @return whether the broker answers and every watched topic's partitions have a leader */
  public boolean ready() throws Exception {
    if (admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
      return false;
    }
    if (watched.isEmpty()) {
      return true;
    }
    Map<String, TopicDescription> topics = admin.describeTopics(watched).allTopicNames().get(3, TimeUnit.SECONDS);
    return topics.values().stream().flatMap(t -> t.partitions().stream())
        .allMatch(p -> p.leader() != null && p.leader().id() >= 0);
  }

  /** Kills the broker with {@code SIGKILL}. */
  public void kill() {
    process.kill();
  }

  @Override
  public void close() {
    process.kill();
    admin.close(Duration.ofSeconds(2));
  }
}
