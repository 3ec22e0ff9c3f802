package io.giftkit.demo.cluster;

import io.giftkit.coord.EtcdElections;
import io.giftkit.coord.Leadership;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Which instance runs the demo's singleton jobs (the reconciliation sweep, the month tables' lifecycle).
 *
 * <p>With etcd ({@code giftkit.coord.endpoints} set, the real profile's {@code GIFTKIT_ETCD_ENDPOINTS}),
 * every instance campaigns in the election {@code giftkit.demo.jobs.election} on a thread of its own;
 * the one that wins runs the jobs until its leadership is lost (its lease not renewed: a paused or cut
 * off process), then campaigns again. A crashed leader's successor takes over within the lease TTL
 * ({@code giftkit.coord.lease-ttl}). On shutdown the leader resigns, so the next one takes over at once.
 *
 * <p>Without etcd (the embedded default) this instance always leads, and its jobs run under an
 * in-process lock only: two such instances on the same databases would both run them. The jobs are
 * written to stand that (alerts are keyed, table DDL is {@code IF NOT EXISTS}), but a WARN says so.
 *
 * <p>{@link #isLeader()} is a hint for scheduling, not a permission to write: a job whose writes must
 * not overlap a successor's fences them with {@link #token()}.
 */
@Component
public class JobLeadership implements SmartLifecycle {

  private static final Logger LOG = LoggerFactory.getLogger(JobLeadership.class);

  private final EtcdElections elections;
  private final String election;
  private final String value;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final AtomicLong won = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private volatile Leadership current;
  private volatile boolean running;
  private volatile Thread campaigner;

  @Autowired
  public JobLeadership(ObjectProvider<EtcdElections> elections,
      @Value("${giftkit.demo.jobs.election:gift-demo-jobs}") String election, DemoInstance instance) {
    this(elections.getIfAvailable(), election, instance.id());
  }

  /**
   * @param elections etcd's elections, or null to lead in-process
   * @param election the election's name
   * @param value what this instance is known by while it leads
   */
  public JobLeadership(EtcdElections elections, String election, String value) {
    this.elections = elections;
    this.election = election;
    this.value = value;
  }

  /** @return whether this instance runs the singleton jobs now */
  public boolean isLeader() {
    if (elections == null) {
      return running;
    }
    Leadership l = current;
    return l != null && l.isLeader();
  }

  /** @return the fencing token of this instance's leadership, if it leads through etcd */
  public Optional<Long> token() {
    Leadership l = current;
    return l != null && l.isLeader() ? Optional.of(l.token()) : Optional.empty();
  }

  /** @return {@code etcd} or {@code in-process} */
  public String mode() {
    return elections == null ? "in-process" : "etcd";
  }

  /** @return what the endpoint shows */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", mode());
    m.put("election", election);
    m.put("instance", value);
    m.put("leader", isLeader());
    token().ifPresent(t -> m.put("token", t));
    m.put("leadershipsWon", won.get());
    m.put("leadershipsLost", lost.get());
    return m;
  }

  @Override
  public void start() {
    running = true;
    if (elections == null) {
      LOG.warn("GiftKit demo: no etcd (giftkit.coord.endpoints is not set): the singleton jobs (reconciliation"
          + " sweep, month tables) run on this instance under an in-process lock, not under the etcd election '{}';"
          + " set GIFTKIT_ETCD_ENDPOINTS (real profile) or giftkit.coord.endpoints to elect one instance", election);
      return;
    }
    Thread t = new Thread(this::campaignLoop, "giftkit-demo-jobs-election");
    t.setDaemon(true);
    campaigner = t;
    t.start();
  }

  private void campaignLoop() {
    Duration backoff = Duration.ofMillis(500);
    while (running) {
      try {
        Optional<Leadership> got = elections.campaign(election, value, Duration.ofSeconds(5));
        if (got.isEmpty()) {
          continue; // another instance leads: campaign again (the key of this attempt is removed)
        }
        Leadership l = got.get();
        l.whenLost((lostOne, reason) -> {
          lost.incrementAndGet();
          LOG.warn("GiftKit demo: lost the leadership of '{}' ({}); the singleton jobs stop here", election, reason);
          signal();
        });
        won.incrementAndGet();
        current = l;
        LOG.info("GiftKit demo: {} leads '{}' (token {}); the singleton jobs run here", value, election, l.token());
        backoff = Duration.ofMillis(500);
        awaitLossOrStop(l);
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        LOG.warn("GiftKit demo: campaigning in '{}' failed ({}); trying again in {} ms", election, e.toString(),
            backoff.toMillis());
        awaitStop(backoff);
        backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5)
            : backoff.multipliedBy(2);
      }
    }
  }

  private void awaitLossOrStop(Leadership l) {
    lock.lock();
    try {
      while (running && l.isLeader()) {
        // the lost listener signals; the timeout also notices a lease that ran out by this side's clock
        changed.awaitNanos(Duration.ofMillis(500).toNanos());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    } finally {
      lock.unlock();
    }
  }

  private void awaitStop(Duration d) {
    lock.lock();
    try {
      if (running) {
        changed.awaitNanos(d.toNanos());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    } finally {
      lock.unlock();
    }
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void stop() {
    running = false;
    signal();
    Thread t = campaigner;
    if (t != null) {
      t.interrupt(); // a campaign in progress ends (its key removed) instead of waiting out its 5 s
      try {
        t.join(Duration.ofSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      campaigner = null;
    }
    Leadership l = current;
    current = null;
    if (l != null) {
      l.resign(); // the next instance leads at once instead of after the lease TTL
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** Started before the jobs that ask it, stopped after them. */
  @Override
  public int getPhase() {
    return Integer.MIN_VALUE + 1000;
  }
}
