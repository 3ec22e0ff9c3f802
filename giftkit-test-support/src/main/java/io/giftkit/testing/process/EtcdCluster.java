package io.giftkit.testing.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An etcd cluster of the test's own: one or three {@code etcd} member processes (Debian's
 * {@code etcd-server}, 3.4) on free loopback ports, client and peer URLs on {@code 127.0.0.1}, each
 * member's data directory and log under {@code dir}. Members can be killed ({@code SIGKILL}),
 * suspended ({@code SIGSTOP}) and resumed, and restarted on their data (etcd ignores the
 * {@code --initial-cluster} flags once its data directory exists). Ready means {@code GET /health}
 * answers {@code "health":"true"}, which etcd 3.4 says only while the cluster has a leader.
 *
 * <p>Heartbeat 100 ms and election timeout 1 s (etcd's defaults), so a killed leader is replaced in
 * about a second. Not thread-safe; one test thread drives it. Every member is killed by
 * {@link #close()} and by the {@link ProcessRegistry}.
 */
public final class EtcdCluster implements AutoCloseable {

  private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"?(\\d+)\"?");
  private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"?(\\d+)\"?");

  private final List<ManagedProcess> members = new ArrayList<>();
  private final List<Integer> clientPorts = new ArrayList<>();

  /**
   * Prepares (does not start) the members.
   *
   * @param registry kills them at the end
   * @param dir their data directories and logs go under it
   * @param size 1 or 3 (or any positive count)
   */
  public EtcdCluster(ProcessRegistry registry, Path dir, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("size must be at least 1, but was " + size);
    }
    List<Integer> peerPorts = new ArrayList<>();
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < size; i++) {
      clientPorts.add(ManagedProcess.freePort());
      peerPorts.add(ManagedProcess.freePort());
      initial.append(i == 0 ? "" : ",").append(name(i)).append("=http://127.0.0.1:").append(peerPorts.get(i));
    }
    String token = "giftkit-" + UUID.randomUUID();
    for (int i = 0; i < size; i++) {
      String client = "http://127.0.0.1:" + clientPorts.get(i);
      String peer = "http://127.0.0.1:" + peerPorts.get(i);
      members.add(new ManagedProcess(registry, name(i), List.of("etcd", "--name", name(i),
          "--data-dir", dir.resolve(name(i)).toString(),
          "--listen-client-urls", client, "--advertise-client-urls", client,
          "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
          "--initial-cluster", initial.toString(), "--initial-cluster-state", "new",
          "--initial-cluster-token", token,
          "--heartbeat-interval", "100", "--election-timeout", "1000",
          "--logger", "zap", "--log-outputs", "stderr"), Map.of(), dir.resolve(name(i) + ".log")));
    }
  }

  private static String name(int i) {
    return "etcd-" + (i + 1);
  }

  /**
   * Starts every member and waits until each reports health (the cluster has a leader).
   *
   * @param timeout how long each member may take
   * @throws ProcessStartException if a member exits or is not healthy within {@code timeout}
   */
  public void start(Duration timeout) {
    for (ManagedProcess m : members) {
      m.start();
    }
    for (int i = 0; i < members.size(); i++) {
      awaitHealthy(i, timeout);
    }
  }

  /**
   * Starts member {@code i} again (after a kill), on its data, and waits until it reports health.
   *
   * @param i the member's index, from 0
   * @param timeout how long it may take
   */
  public void restart(int i, Duration timeout) {
    members.get(i).start();
    awaitHealthy(i, timeout);
  }

  /**
   * Waits until member {@code i} answers {@code /health} with true.
   *
   * @param i the member's index, from 0
   * @param timeout how long it may take
   * @throws ProcessStartException if it exits or is not healthy in time, quoting its log
   */
  public void awaitHealthy(int i, Duration timeout) {
    members.get(i).awaitReady(timeout, () -> healthy(i));
  }

  /** @return the number of members */
  public int size() {
    return members.size();
  }

  /**
   * @param i the member's index, from 0
   * @return member {@code i}'s process (kill, suspend, resume)
   */
  public ManagedProcess member(int i) {
    return members.get(i);
  }

  /**
   * @param i the member's index, from 0
   * @return member {@code i}'s client URL, {@code http://127.0.0.1:port}
   */
  public String clientUrl(int i) {
    return "http://127.0.0.1:" + clientPorts.get(i);
  }

  /** @return every member's client URL, in member order */
  public List<String> clientUrls() {
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      urls.add(clientUrl(i));
    }
    return urls;
  }

  /**
   * Asks the running, unsuspended members who leads.
   *
   * @return the leader's index, or -1 if no member that answers names itself leader
   */
  public int leader() {
    for (int i = 0; i < members.size(); i++) {
      ManagedProcess m = members.get(i);
      if (!m.isAlive() || m.isSuspended()) {
        continue;
      }
      try {
        String status = post(i, "/v3/maintenance/status", "{}");
        Matcher id = MEMBER_ID.matcher(status);
        Matcher leader = LEADER.matcher(status);
        if (id.find() && leader.find() && id.group(1).equals(leader.group(1))) {
          return i;
        }
      } catch (IOException e) {
        // not answering: not the leader we can use
      }
    }
    return -1;
  }

  /**
   * @param i the member's index, from 0
   * @return whether member {@code i} answers {@code GET /health} with true within a second
   * @throws IOException if it does not answer
   */
  public boolean healthy(int i) throws IOException {
    HttpURLConnection c = open(i, "/health");
    try (InputStream in = c.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace(" ", "").contains("\"health\":\"true\"");
    } finally {
      c.disconnect();
    }
  }

  private String post(int i, String path, String body) throws IOException {
    HttpURLConnection c = open(i, path);
    try {
      c.setRequestMethod("POST");
      c.setDoOutput(true);
      try (OutputStream out = c.getOutputStream()) {
        out.write(body.getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } finally {
      c.disconnect();
    }
  }

  private HttpURLConnection open(int i, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(clientUrl(i) + path).toURL().openConnection();
    c.setConnectTimeout(1000);
    c.setReadTimeout(1000);
    return c;
  }

  /** Kills every member. */
  @Override
  public void close() {
    for (ManagedProcess m : members) {
      m.kill();
    }
  }
}
