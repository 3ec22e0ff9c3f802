package io.giftkit.testing.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Redis Cluster of the test's own: {@code n} {@code redis-server} masters with
 * {@code --cluster-enabled yes} on free loopback ports, no replicas, no persistence, joined by
 * {@code redis-cli --cluster create} (the slots split evenly). Ready means every node answers
 * {@code CLUSTER INFO} with {@code cluster_state:ok}. Every process is registered with the
 * {@link ProcessRegistry}, which kills them at the end whatever happens. Not thread-safe; one test
 * thread drives it.
 */
public final class RedisCluster implements AutoCloseable {

  private final List<ManagedProcess> nodes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final Path dir;

  /**
   * @param registry kills the nodes at the end
   * @param dir the nodes' directories ({@code node-<i>}: log, cluster config file)
   * @param masters how many masters; at least 3 ({@code redis-cli --cluster create} refuses fewer)
   */
  public RedisCluster(ProcessRegistry registry, Path dir, int masters) {
    if (masters < 3) {
      throw new IllegalArgumentException("masters must be at least 3, but was " + masters);
    }
    this.dir = dir;
    for (int i = 0; i < masters; i++) {
      int port = ManagedProcess.freePort();
      Path nodeDir = dir.resolve("node-" + i);
      ports.add(port);
      nodes.add(new ManagedProcess(registry, "redis-cluster-" + i, List.of("redis-server", "--port",
          Integer.toString(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file",
          "nodes.conf", "--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no", "--daemonize", "no",
          "--dir", nodeDir.toString()), Map.of(), nodeDir.resolve("redis.log")));
    }
  }

  /** Starts the nodes, joins them into one cluster and waits until every node says the cluster is ok. */
  public void start(Duration timeout) {
    for (int i = 0; i < nodes.size(); i++) {
      int port = ports.get(i);
      nodes.get(i).start();
      nodes.get(i).awaitReady(timeout, () -> command(port, "PING").startsWith("+PONG"));
    }
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    for (int port : ports) {
      create.add("127.0.0.1:" + port);
    }
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    ManagedProcess.runToCompletion(create, Map.of(), dir.resolve("cluster-create.log"), timeout);
    for (int i = 0; i < nodes.size(); i++) {
      int port = ports.get(i);
      nodes.get(i).awaitReady(timeout, () -> command(port, "CLUSTER INFO").contains("cluster_state:ok"));
    }
  }

  /** @return the nodes' ports, in order */
  public List<Integer> ports() {
    return List.copyOf(ports);
  }

  /** @return {@code 127.0.0.1:port} of every node, comma-separated (Spring's {@code spring.data.redis.cluster.nodes}) */
  public String nodesList() {
    return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
  }

  /** @return {@code redis://127.0.0.1:port} of every node */
  public List<String> urls() {
    return ports.stream().map(p -> "redis://127.0.0.1:" + p).toList();
  }

  /** @return the node processes, in order */
  public List<ManagedProcess> nodes() {
    return List.copyOf(nodes);
  }

  /**
   * Sends one inline command to the node on {@code port} and returns its raw RESP answer (a bulk
   * string's body, or the status/error line).
   */
  private static String command(int port, String command) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String first = readLine(in);
      if (!first.startsWith("$")) {
        return first;
      }
      int length = Integer.parseInt(first.substring(1));
      return length < 0 ? "" : new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  /** Kills every node with {@code SIGKILL}. */
  @Override
  public void close() {
    for (ManagedProcess node : nodes) {
      node.kill();
    }
  }
}
