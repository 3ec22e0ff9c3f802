package io.giftkit.shard;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node of each shard takes writes: start-up discovery, look-ups after failures, the periodic
 * check, split-brain fencing and the warning about users that bypass {@code read_only}.
 *
 * <p>A look-up asks every node of the shard for {@code @@read_only}, {@code @@innodb_read_only} and
 * {@code @@server_id}. Look-ups of one shard run one at a time; a caller that asks while another's
 * look-up is under way waits for it and then runs its own, unless a look-up that started after it
 * asked has finished meanwhile (then it takes that answer): a storm of refused writes costs a few
 * look-ups, not one each, and no caller acts on an answer older than its own refusal.
 */
final class Topology implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Topology.class);

  /** The outcome of a look-up: the writer now in use, whether a writable node was seen, whether fenced. */
  record Look(int writer, boolean writableSeen, boolean fenced) {}

  private record Answer(boolean reached, boolean writable, long serverId, String failure) {}

  private record SplitBrain(List<Integer> nodes, String message) {}

  private final ShardNode[][] nodes;
  private final Ticker ticker;
  private final long recheckNanos;
  private final AtomicIntegerArray writer;
  private final AtomicIntegerArray discovered;
  private final AtomicIntegerArray noWriterLogged;
  private final AtomicReferenceArray<SplitBrain> fence;
  private final AtomicLongArray nextFenceCheck;
  private final AtomicLongArray lookUpsStarted;
  private final Look[] lastLook; // guarded by locks[shard]
  private final Object[] locks;
  private final LongAdder failovers = new LongAdder();
  private final LongAdder splitBrains = new LongAdder();
  private final Listeners<TopologyListener> listeners = Listeners.create("ShardDataSources topology");
  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private volatile ScheduledExecutorService checker;

  Topology(ShardNode[][] nodes, Ticker ticker, Duration recheck) {
    this.nodes = nodes;
    this.ticker = ticker;
    this.recheckNanos = recheck.toNanos();
    int shards = nodes.length;
    writer = new AtomicIntegerArray(shards);
    discovered = new AtomicIntegerArray(shards);
    noWriterLogged = new AtomicIntegerArray(shards);
    fence = new AtomicReferenceArray<>(shards);
    nextFenceCheck = new AtomicLongArray(shards);
    lookUpsStarted = new AtomicLongArray(shards);
    lastLook = new Look[shards];
    locks = new Object[shards];
    for (int s = 0; s < shards; s++) {
      locks[s] = new Object();
    }
  }

  /** Looks up every shard now and then every {@code interval} on a daemon thread. */
  void startChecks(Duration interval) {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-shard-topology");
      t.setDaemon(true);
      return t;
    });
    long every = interval.toMillis();
    s.scheduleWithFixedDelay(() -> {
      for (int shard = 0; shard < nodes.length; shard++) {
        try {
          lookUp(shard);
          discovered.set(shard, 1);
        } catch (RuntimeException e) {
          LOG.warn("GiftKit: topology check of shard {} failed", shard, e);
        }
      }
    }, every, every, TimeUnit.MILLISECONDS);
    checker = s;
  }

  int writer(int shard) {
    return writer.get(shard);
  }

  /**
   * Before a STRONG connection: the first one of a shard with replicas finds the writable node; a
   * fenced shard throws (asking the nodes again at most every {@code recheck}). Two volatile reads
   * when nothing is to be done.
   */
  void beforeStrong(int shard) {
    if (discovered.get(shard) == 0) {
      discover(shard);
    }
    SplitBrain sb = fence.get(shard);
    if (sb != null) {
      long now = ticker.read();
      long next = nextFenceCheck.get(shard);
      if (now - next >= 0 && nextFenceCheck.compareAndSet(shard, next, now + recheckNanos)) {
        lookUp(shard);
        sb = fence.get(shard);
      }
      if (sb != null) {
        throw ShardUnavailableException.splitBrain(shard, sb.message());
      }
    }
  }

  void discover(int shard) {
    if (nodes[shard].length > 1) {
      lookUp(shard);
    }
    discovered.set(shard, 1);
  }

  boolean fenced(int shard) {
    return fence.get(shard) != null;
  }

  /** Asks every node of the shard for its role and acts on the answers (see the class comment). */
  Look lookUp(int shard) {
    long asked = lookUpsStarted.get(shard);
    synchronized (locks[shard]) {
      Look last = lastLook[shard];
      if (lookUpsStarted.get(shard) != asked && last != null) {
        return last; // a look-up that started after this caller asked has just finished
      }
      lookUpsStarted.incrementAndGet(shard);
      ShardNode[] ns = nodes[shard];
      Answer[] answers = new Answer[ns.length];
      for (int i = 0; i < ns.length; i++) {
        answers[i] = ask(ns[i]);
      }
      Look look = decide(shard, answers);
      lastLook[shard] = look;
      return look;
    }
  }

  private Look decide(int shard, Answer[] answers) {
    ShardNode[] ns = nodes[shard];
    int current = writer.get(shard);
    List<Integer> writable = new ArrayList<>();
    Set<Long> servers = new HashSet<>();
    for (int i = 0; i < answers.length; i++) {
      if (answers[i].writable()) {
        writable.add(i);
        servers.add(answers[i].serverId());
      }
    }
    SplitBrain fenced = fence.get(shard);
    if (servers.size() > 1) {
      if (fenced == null) {
        fence(shard, writable, answers);
      }
      return new Look(current, true, true);
    }
    if (fenced != null) {
      for (int i : fenced.nodes()) {
        if (!answers[i].reached()) { // it may still be writable and taking other instances' writes
          LOG.debug("GiftKit: shard {} stays fenced: {} did not answer ({})", shard, ns[i].describe(ns[i].role),
              answers[i].failure());
          return new Look(current, !writable.isEmpty(), true);
        }
      }
      fence.set(shard, null);
      String now = writable.isEmpty() ? "none is writable yet" : "writes go to " + ns[writable.get(0)].url;
      LOG.warn("GiftKit: shard {} split brain is over: at most one node is writable ({})", shard, now);
      String url = writable.isEmpty() ? ns[current].url : ns[writable.get(0)].url;
      listeners.fire(l -> l.onSplitBrainResolved(shard, url));
    }
    if (writable.isEmpty()) {
      if (noWriterLogged.compareAndSet(shard, 0, 1)) {
        LOG.warn("GiftKit: shard {} has no writable node right now; writes keep going to {} until one is", shard,
            ns[current].url);
      }
      return new Look(current, false, false);
    }
    noWriterLogged.set(shard, 0);
    int chosen = writable.contains(current) ? current : writable.get(0); // two URLs of one server: keep ours
    if (chosen != current) {
      writer.set(shard, chosen);
      failovers.increment();
      LOG.warn("GiftKit: shard {} writes move from {} to {} (it is now the writable node)", shard, ns[current].url,
          ns[chosen].url);
      listeners.fire(l -> l.onPrimaryChanged(shard, ns[current].url, ns[chosen].url));
    }
    return new Look(chosen, true, false);
  }

  private void fence(int shard, List<Integer> writable, Answer[] answers) {
    ShardNode[] ns = nodes[shard];
    List<String> urls = new ArrayList<>();
    StringBuilder which = new StringBuilder();
    for (int i : writable) {
      urls.add(ns[i].url);
      which.append(which.length() == 0 ? "" : "; ").append("node ").append(i).append(' ').append(ns[i].url)
          .append(" server_id=").append(answers[i].serverId());
    }
    String message = "shard " + shard + " has " + writable.size() + " writable nodes (" + which
        + "): split brain; writes to it are stopped until all but one are read-only again. Nothing of this"
        + " call was written; it is safe to retry once resolved";
    nextFenceCheck.set(shard, ticker.read() + recheckNanos);
    fence.set(shard, new SplitBrain(List.copyOf(writable), message));
    splitBrains.increment();
    LOG.error("GiftKit: {}", message);
    listeners.fire(l -> l.onSplitBrain(shard, List.copyOf(urls)));
  }

  private Answer ask(ShardNode n) {
    try (Connection c = n.pool().getConnection(); Statement st = c.createStatement()) {
      if (!n.grantsChecked && nodes[n.shard].length > 1) { // read_only matters only where writes can move
        n.grantsChecked = true;
        checkGrants(n, st);
      }
      try (ResultSet rs = st.executeQuery("SELECT @@global.read_only, @@global.innodb_read_only, @@server_id")) {
        rs.next();
        return new Answer(true, rs.getInt(1) == 0 && rs.getInt(2) == 0, rs.getLong(3), null);
      }
    } catch (SQLException e) {
      LOG.debug("GiftKit: {} did not answer the topology look-up", n.describe("node"), e);
      return new Answer(false, false, -1, e.getMessage());
    }
  }

  private void checkGrants(ShardNode n, Statement st) {
    try (ResultSet rs = st.executeQuery("SHOW GRANTS")) {
      while (rs.next()) {
        String privilege = readOnlyBypass(rs.getString(1));
        if (privilege != null) {
          String warning = n.describe(n.role) + ": user '" + n.user + "' holds " + privilege
              + " ON *.*, so read_only does not stop its writes: a demoted node would keep accepting them and"
              + " writes would not move to the new primary. Use a user with rights on its database only"
              + " (or super_read_only on MySQL)";
          warnings.add(warning);
          LOG.warn("GiftKit: {}", warning);
          return;
        }
      }
    } catch (SQLException e) {
      LOG.debug("GiftKit: could not read the grants of {} on {}", n.user, n.describe("node"), e);
    }
  }

  /**
   * @return the privilege in a {@code SHOW GRANTS} line that lets its user write despite
   *     {@code read_only} (MariaDB: SUPER, READ_ONLY ADMIN; MySQL: SUPER, CONNECTION_ADMIN; both: ALL
   *     PRIVILEGES on {@code *.*}), or null
   */
  static String readOnlyBypass(String grant) {
    String g = grant.toUpperCase(Locale.ROOT);
    int on = g.indexOf(" ON *.* ");
    if (!g.startsWith("GRANT ") || on < 0) {
      return null;
    }
    for (String p : g.substring("GRANT ".length(), on).split(",")) {
      String privilege = p.trim();
      if (privilege.equals("ALL PRIVILEGES") || privilege.equals("ALL") || privilege.equals("SUPER")
          || privilege.equals("READ_ONLY ADMIN") || privilege.equals("CONNECTION_ADMIN")) {
        return privilege;
      }
    }
    return null;
  }

  void addListener(TopologyListener listener) {
    listeners.add(listener);
  }

  /** @return the topology listeners, shared with the replica lag checks */
  Listeners<TopologyListener> listeners() {
    return listeners;
  }

  long failovers() {
    return failovers.sum();
  }

  long splitBrains() {
    return splitBrains.sum();
  }

  List<String> warnings() {
    return List.copyOf(warnings);
  }

  @Override
  public void close() {
    ScheduledExecutorService s = checker;
    if (s != null) {
      s.shutdownNow();
    }
  }
}
