package io.giftkit.testing.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One server run as its own OS process: a fixed command line, environment and log file (appended to
 * across restarts), started, killed ({@code SIGKILL}), stopped ({@code SIGSTOP}), resumed
 * ({@code SIGCONT}) and restarted by the test. Registered with a {@link ProcessRegistry} that kills
 * it at the end whatever happens.
 *
 * <p>Thread-safe: the methods are synchronized, except {@link #awaitReady} which polls without the lock.
 */
public final class ManagedProcess {

  /** A readiness check; an exception counts as "not yet". */
  @FunctionalInterface
  public interface Probe {
    /** @return whether the process is ready */
    boolean ready() throws Exception;
  }

  private static final Duration POLL = Duration.ofMillis(200);

  private final ProcessRegistry registry;
  private final String name;
  private final List<String> command;
  private final Map<String, String> environment;
  private final Path log;
  private Process process;
  private boolean stopped;

  /**
   * @param registry kills it at the end
   * @param name a short name for logs and reports (e.g. {@code kafka}, {@code app-1})
   * @param command the command line
   * @param environment added to the inherited environment
   * @param log the file stdout and stderr are appended to
   */
  public ManagedProcess(ProcessRegistry registry, String name, List<String> command, Map<String, String> environment,
      Path log) {
    this.registry = registry;
    this.name = name;
    this.command = List.copyOf(command);
    this.environment = Map.copyOf(environment);
    this.log = log;
    registry.register(this);
  }

  /** @return a TCP port free on the loopback interface now */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs a short command to completion (e.g. an installer), its output appended to {@code log}.
   *
   * @throws ProcessStartException if it cannot start, fails or takes longer than {@code timeout}
   */
  public static void runToCompletion(List<String> command, Map<String, String> environment, Path log, Duration timeout) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(environment);
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor();
        throw new ProcessStartException(command.get(0) + " did not finish within " + timeout + "; log " + log
            + ":\n" + tail(log, 20), null);
      }
      if (p.exitValue() != 0) {
        throw new ProcessStartException(command.get(0) + " exited with " + p.exitValue() + "; log " + log + ":\n"
            + tail(log, 20), null);
      }
    } catch (IOException e) {
      throw new ProcessStartException(command.get(0) + " could not be started: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProcessStartException(command.get(0) + " interrupted", e);
    }
  }

  /** @return its name */
  public String name() {
    return name;
  }

  /** @return its log file */
  public Path log() {
    return log;
  }

  /**
   * Starts it (again, after a kill).
   *
   * @throws IllegalStateException if it is running
   * @throws ProcessStartException if the command cannot be started
   */
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is running (pid " + process.pid() + ")");
    }
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(log, "---- " + java.time.Instant.now() + " starting " + name + ": " + String.join(" ", command)
          + System.lineSeparator(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(environment);
      process = pb.start();
      stopped = false;
      registry.started(process.pid());
    } catch (IOException e) {
      throw new ProcessStartException(name + " could not be started (" + String.join(" ", command) + "): "
          + e.getMessage(), e);
    }
  }

  /**
   * Polls {@code probe} until it answers true.
   *
   * @throws ProcessStartException if the process exits first or {@code timeout} passes, quoting its log
   */
  public void awaitReady(Duration timeout, Probe probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (true) {
      Process p;
      synchronized (this) {
        p = process;
      }
      if (p == null || !p.isAlive()) {
        throw new ProcessStartException(name + " exited" + (p == null ? "" : " with code " + p.exitValue())
            + " before it was ready; log " + log + ":\n" + tail(log, 30), last);
      }
      try {
        if (probe.ready()) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new ProcessStartException(name + " (pid " + p.pid() + ") was not ready within " + timeout
            + (last == null ? "" : " (last probe: " + last + ")") + "; log " + log + ":\n" + tail(log, 30), last);
      }
      try {
        p.waitFor(POLL.toMillis(), TimeUnit.MILLISECONDS); // returns at once if it dies
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProcessStartException(name + ": interrupted while waiting for readiness", e);
      }
    }
  }

  /** Kills it with {@code SIGKILL} (a stopped process too) and waits for it to exit; nothing if not running. */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " (pid " + process.pid() + ") survived SIGKILL for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopped = false;
  }

  /** Freezes it with {@code SIGSTOP}: its sockets stay open, nothing answers. */
  public synchronized void suspend() {
    signal("STOP");
    stopped = true;
  }

  /** Resumes it with {@code SIGCONT}. */
  public synchronized void resume() {
    signal("CONT");
    stopped = false;
  }

  /** @return whether it is running (stopped counts as running) */
  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** @return whether it was suspended and not resumed */
  public synchronized boolean isSuspended() {
    return stopped && isAlive();
  }

  /** @return its current PID, or -1 */
  public synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  private void signal(String signal) {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException(name + " is not running");
    }
    try {
      Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).redirectErrorStream(true).start();
      if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed: "
            + new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending SIG" + signal + " to " + name, e);
    }
  }

  /** @return the last {@code lines} lines of a log file, or a note that it cannot be read */
  public static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  @Override
  public String toString() {
    return name + (process == null ? " (not started)" : " (pid " + process.pid() + (isAlive() ? ")" : ", exited)"));
  }
}
