package io.giftkit.testing.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code redis-server} of the test's own on a free loopback port, without persistence
 * ({@code --save '' --appendonly no}): a restart after a kill starts empty, as a cache may.
 * Ready means it answers {@code PING} with {@code +PONG}. Not thread-safe; one test thread drives it.
 */
public final class RedisProcess implements AutoCloseable {

  private final ManagedProcess process;
  private final int port;

  /**
   * @param registry kills it at the end
   * @param dir its directory (the log, its working directory)
   */
  public RedisProcess(ProcessRegistry registry, Path dir) {
    this.port = ManagedProcess.freePort();
    this.process = new ManagedProcess(registry, "redis", List.of("redis-server", "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()), Map.of(),
        dir.resolve("redis.log"));
  }

  /** @return {@code redis://127.0.0.1:port} */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** @return the process */
  public ManagedProcess process() {
    return process;
  }

  /** Starts it and waits for {@code PONG}. */
  public void start(Duration timeout) {
    process.start();
    process.awaitReady(timeout, this::ping);
  }

  /** @return whether it answers {@code PING} within a second */
  public boolean ping() throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      return new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    }
  }

  /** Kills it with {@code SIGKILL} (its data is gone: no persistence). */
  public void kill() {
    process.kill();
  }

  @Override
  public void close() {
    process.kill();
  }
}
