package io.giftkit.testing.process;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Every process a test started, so that all of them die at the end whatever happens: {@link #close()}
 * kills each one still alive ({@code SIGKILL}, then waits for it), and so does a JVM shutdown hook
 * registered at construction (a runner killed with {@code SIGTERM} or failing in {@code main} leaves
 * nothing behind). {@link #survivors()} then lists any PID ever started that is still alive.
 *
 * <p>Thread-safe. {@code close()} blocks until the processes have exited (at most ~10 s each).
 */
public final class ProcessRegistry implements AutoCloseable {

  private final List<ManagedProcess> processes = new ArrayList<>();
  private final Set<Long> pids = new LinkedHashSet<>();
  private final Thread hook = new Thread(this::killAll, "giftkit-process-registry-shutdown");

  /** Creates an empty registry and registers its shutdown hook. */
  public ProcessRegistry() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  synchronized void register(ManagedProcess process) {
    if (!processes.contains(process)) {
      processes.add(process);
    }
  }

  synchronized void started(long pid) {
    pids.add(pid);
  }

  /** @return every PID started through this registry, in order */
  public synchronized List<Long> pids() {
    return List.copyOf(pids);
  }

  /** @return the PIDs started through this registry that are still alive */
  public synchronized List<Long> survivors() {
    List<Long> alive = new ArrayList<>();
    for (long pid : pids) {
      if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        alive.add(pid);
      }
    }
    return alive;
  }

  private void killAll() {
    List<ManagedProcess> all;
    synchronized (this) {
      all = List.copyOf(processes);
    }
    for (ManagedProcess p : all) {
      p.kill();
    }
    // anything a process started itself (none of ours fork, but be sure) and stragglers by PID
    for (long pid : pids()) {
      ProcessHandle.of(pid).ifPresent(h -> {
        h.descendants().forEach(ProcessHandle::destroyForcibly);
        h.destroyForcibly();
        try {
          h.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          // reported by survivors()
        }
      });
    }
  }

  /** Kills every process still alive and waits for each to exit. */
  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run: nothing to remove
    }
  }
}
