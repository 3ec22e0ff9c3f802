package io.giftkit.testing;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker for tests: by default a single-node KRaft cluster started once per test JVM
 * from Apache Kafka's own server artifacts ({@code KafkaClusterTestKit}), on an ephemeral loopback
 * port, and closed when the JVM exits; or an external broker named by {@value #BOOTSTRAP_ENV}.
 *
 * <pre>{@code
 * KafkaBroker kafka = KafkaBroker.shared();
 * String topic = kafka.createTopic("gift-events", 3);   // unique name, e.g. gift-events-1f3a9c07
 * props.put("bootstrap.servers", kafka.bootstrapServers());
 * }</pre>
 *
 * <p>The embedded broker sets {@code group.initial.rebalance.delay.ms=0} (otherwise every new group
 * waits 3 s before its first assignment), replication factors of 1, and disables automatic topic
 * creation so that tests create what they use. Thread-safe.
 */
public final class KafkaBroker implements AutoCloseable {

  /** An external broker's {@code bootstrap.servers}; when set, no broker is started. */
  public static final String BOOTSTRAP_ENV = "GIFTKIT_KAFKA_BOOTSTRAP";

  private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
  private static KafkaBroker shared;

  private final String bootstrapServers;
  private final KafkaClusterTestKit cluster; // null when external
  private final Map<String, Object> clientProperties;
  private final Admin admin;

  private KafkaBroker(String bootstrapServers, KafkaClusterTestKit cluster) {
    this(bootstrapServers, cluster, Map.of());
  }

  private KafkaBroker(String bootstrapServers, KafkaClusterTestKit cluster, Map<String, Object> clientProperties) {
    this.bootstrapServers = bootstrapServers;
    this.cluster = cluster;
    this.clientProperties = Map.copyOf(clientProperties);
    Map<String, Object> admin = new java.util.HashMap<>(clientProperties);
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
    this.admin = Admin.create(admin);
  }

  /**
   * Starts a broker of its own (not the shared one) whose client listener takes SASL/PLAIN
   * ({@code SASL_PLAINTEXT}) and nothing else: clients must log in as {@code user} with
   * {@code password}. Close it when done.
   *
   * @param user the one client user
   * @param password its password
   * @return the broker; {@link #clientProperties()} holds what a client needs to log in
   * @throws ServiceUnavailableError if it cannot start
   */
  public static KafkaBroker startSaslPlain(String user, String password) {
    String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\""
        + " password=\"broker-secret\" user_broker=\"broker-secret\" user_" + user + "=\"" + password + "\";";
    Map<String, Object> client = Map.of(
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", "PLAIN",
        "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
            + user + "\" password=\"" + password + "\";");
    return startEmbedded(org.apache.kafka.common.security.auth.SecurityProtocol.SASL_PLAINTEXT, Map.of(
        "sasl.enabled.mechanisms", "PLAIN",
        "sasl.mechanism.inter.broker.protocol", "PLAIN",
        "listener.name.external.plain.sasl.jaas.config", jaas,
        // the test kit's controller listener stays PLAINTEXT (its principal is ANONYMOUS) and the kit
        // runs an ACL authorizer: the nodes and the one user may do everything
        "super.users", "User:ANONYMOUS;User:broker;User:" + user), client);
  }

  /** @return what a client needs besides {@code bootstrap.servers} (SASL settings; empty for the shared broker) */
  public Map<String, Object> clientProperties() {
    return clientProperties;
  }

  /**
   * Returns the broker shared by every test in this JVM, starting it on first use.
   *
   * @return the broker
   * @throws ServiceUnavailableError if the external broker cannot be reached or the embedded one
   *     cannot start
   */
  public static synchronized KafkaBroker shared() {
    if (shared == null) {
      String external = System.getenv(BOOTSTRAP_ENV);
      shared = external == null || external.isBlank() ? startEmbedded() : connect(external);
      KafkaBroker broker = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> closeWithin(broker, Duration.ofSeconds(15)),
          "giftkit-kafka-broker-shutdown"));
    }
    return shared;
  }

  /**
   * Connects to an external broker and checks that it answers.
   *
   * @param bootstrapServers e.g. {@code 127.0.0.1:9092}
   * @return the broker
   * @throws ServiceUnavailableError if it does not answer within 10 s
   */
  public static KafkaBroker connect(String bootstrapServers) {
    KafkaBroker broker = new KafkaBroker(bootstrapServers, null);
    try {
      broker.admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      broker.close();
      throw ServiceUnavailableError.kafka(bootstrapServers, e);
    } catch (ExecutionException | TimeoutException e) {
      broker.close();
      throw ServiceUnavailableError.kafka(bootstrapServers, e);
    }
    return broker;
  }

  private static KafkaBroker startEmbedded() {
    return startEmbedded(org.apache.kafka.common.security.auth.SecurityProtocol.PLAINTEXT, Map.of(), Map.of());
  }

  private static KafkaBroker startEmbedded(org.apache.kafka.common.security.auth.SecurityProtocol protocol,
      Map<String, String> brokerProperties, Map<String, Object> clientProperties) {
    // The broker runs inside the test JVM: a fatal error in it (Kafka calls Exit.exit/halt, e.g. on
    // a fault while shutting down at JVM exit) must fail loudly, never end the test JVM with a
    // non-zero code after the tests passed.
    org.apache.kafka.common.utils.Exit.setExitProcedure((code, message) ->
        LOG.error("The in-JVM Kafka broker asked to exit the JVM with {} ({}); refused", code, message));
    org.apache.kafka.common.utils.Exit.setHaltProcedure((code, message) ->
        LOG.error("The in-JVM Kafka broker asked to halt the JVM with {} ({}); refused", code, message));
    long start = System.nanoTime();
    KafkaClusterTestKit cluster = null;
    try {
      TestKitNodes nodes = new TestKitNodes.Builder()
          .setCombined(true)
          .setNumBrokerNodes(1)
          .setNumControllerNodes(1)
          .setBrokerSecurityProtocol(protocol)
          .build();
      KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
      brokerProperties.forEach(builder::setConfigProp);
      cluster = builder
          .setConfigProp("group.initial.rebalance.delay.ms", "0")
          .setConfigProp("offsets.topic.replication.factor", "1")
          .setConfigProp("offsets.topic.num.partitions", "5")
          .setConfigProp("transaction.state.log.replication.factor", "1")
          .setConfigProp("transaction.state.log.min.isr", "1")
          .setConfigProp("auto.create.topics.enable", "false")
          .setConfigProp("num.partitions", "1")
          .build();
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      String bootstrap = cluster.bootstrapServers();
      LOG.info("Started an in-JVM KRaft Kafka broker at {} in {} ms", bootstrap,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      return new KafkaBroker(bootstrap, cluster, clientProperties);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (cluster != null) {
        try {
          cluster.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw ServiceUnavailableError.kafka("an in-JVM KRaft broker (KafkaClusterTestKit)", e);
    }
  }

  /**
   * Returns the value for {@code bootstrap.servers}.
   *
   * @return e.g. {@code localhost:40231}
   */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Whether this broker was started inside this JVM.
   *
   * @return {@code false} for an external broker
   */
  public boolean isEmbedded() {
    return cluster != null;
  }

  /**
   * Returns an admin client for this broker, shared; do not close it.
   *
   * @return the admin client
   */
  public Admin admin() {
    return admin;
  }

  /**
   * Creates a topic with a unique name and waits until it exists.
   *
   * @param prefix a readable part of the name
   * @param partitions how many partitions
   * @return the topic's name, {@code <prefix>-<8 hex digits>}
   */
  public String createTopic(String prefix, int partitions) {
    String name = prefix + "-" + TestNames.randomHex();
    createTopics(List.of(new NewTopic(name, partitions, (short) 1)));
    return name;
  }

  /**
   * Waits until every partition of {@code topics} has a leader that takes requests: a producer that
   * sends to a partition whose leader has not taken the leadership on yet gets
   * {@code NOT_LEADER_OR_FOLLOWER}, and an idempotent producer with several requests in flight was seen
   * to stall for good on {@code OUT_OF_ORDER_SEQUENCE_NUMBER} after it (the first batch retried with
   * sequence 0 after later ones were taken).
   */
  private void awaitLeaders(Collection<String> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    while (true) {
      boolean ready = true;
      try {
        for (var d : admin.describeTopics(topics).allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .values()) {
          ready &= d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
          throw e;
        }
        ready = false; // created, not yet in this broker's metadata
      }
      if (ready) {
        // The metadata names a leader before the broker's replica manager has taken the leadership on;
        // ListOffsets is answered by the replica manager (NOT_LEADER_OR_FOLLOWER until then, retried by
        // the admin client), so once it answers, produce requests are taken too.
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> all = new java.util.HashMap<>();
        for (var d : admin.describeTopics(topics).allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .values()) {
          for (var p : d.partitions()) {
            all.put(new org.apache.kafka.common.TopicPartition(d.name(), p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest());
          }
        }
        admin.listOffsets(all).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new TimeoutException("partitions of " + topics + " have no leader after " + ADMIN_TIMEOUT);
      }
      Thread.sleep(20); // polling the broker's metadata, not standing in for an event
    }
  }

  /**
   * Creates topics and waits until they exist and every partition has a leader.
   *
   * @param topics the topics
   */
  public void createTopics(Collection<NewTopic> topics) {
    try {
      admin.createTopics(topics).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      awaitLeaders(topics.stream().map(NewTopic::name).toList());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics " + topics, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not create topics " + topics + " on " + bootstrapServers, e);
    }
  }

  /**
   * Closes the broker at JVM exit, waiting at most {@code limit}: the JVM is exiting anyway, and a
   * shutdown hook that outlasts surefire's fork exit timeout (30 s) gets the fork halted with exit
   * code 1 ("Error occurred in starting fork") after every test passed. Clients left open by tests
   * can keep a broker's controlled shutdown busy that long.
   */
  private static void closeWithin(KafkaBroker broker, Duration limit) {
    Thread closer = new Thread(broker::close, "giftkit-kafka-broker-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(limit.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      LOG.warn("The in-JVM Kafka broker did not close within {}; the JVM exits without waiting for it", limit);
    }
  }

  /** Stops an embedded broker (the shared one is stopped at JVM exit: do not close it). */
  @Override
  public synchronized void close() {
    admin.close(Duration.ofSeconds(5));
    if (cluster != null) {
      try {
        cluster.close();
      } catch (Exception e) {
        LOG.warn("Closing the in-JVM Kafka broker failed", e);
      }
    }
  }

  @Override
  public String toString() {
    return "KafkaBroker{" + bootstrapServers + (isEmbedded() ? ", embedded" : ", external") + "}";
  }
}
