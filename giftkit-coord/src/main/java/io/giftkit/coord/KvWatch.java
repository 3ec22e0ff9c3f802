package io.giftkit.coord;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.ClosedClientException;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.giftkit.core.Listeners;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running watch on a key or a prefix, from {@link ConsistentKv#watch} or
 * {@link ConsistentKv#watchPrefix}: its listener hears every put and delete in revision order, until
 * {@link #close()}.
 *
 * <p><b>Surviving failures.</b> The watch remembers the revision after the last change it delivered
 * (advanced also by etcd's progress notices on a quiet key, every 10 minutes by default).
 * When its stream fails (the member it talks to is restarted or killed, it loses its Raft leader, the
 * stream is cancelled) it opens a new one from that revision, after a back-off of 250 ms doubling to
 * 2 s, through whichever member the client reaches; so no change is lost and none is delivered twice
 * (changes already delivered are skipped by revision). When etcd has <b>compacted</b> that revision
 * away, the missing changes cannot be replayed: the watch re-reads the key or prefix (linearizable)
 * and hands the listener the whole current content ({@link KvWatchListener#onCompacted}), then goes on
 * from the revision of that read. Both are counted ({@link #errors()}, {@link #reconnects()},
 * {@link #compactions()}) and logged.
 *
 * <p>Thread-safe. The listener is called on a jetcd thread, one call at a time; once {@link #close()}
 * has returned it is never called again (unless close is called from inside it, where the current
 * call finishes first). A watch uses the caller's {@link Client} and stops by itself if that client is closed.
 */
public final class KvWatch implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KvWatch.class);
  private static final long FIRST_BACKOFF_MILLIS = 250;
  private static final long MAX_BACKOFF_MILLIS = 2000;

  private final Client client;
  private final String keyPrefix;
  private final ByteSequence watched;
  private final boolean prefix;
  private final String what;
  private final Duration timeout;
  private final Listeners<KvWatchListener> listeners;
  private final Counters totals;
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicLong compactions = new AtomicLong();
  // guarded by this
  private long nextRevision;
  private boolean closed;
  private int generation;
  private Watch.Watcher current;
  private long backoffMillis = FIRST_BACKOFF_MILLIS;

  private KvWatch(Client client, String keyPrefix, String key, boolean prefix, long fromRevision,
      KvWatchListener listener, Duration timeout, Counters totals) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.watched = Etcd.bytes(keyPrefix + key);
    this.prefix = prefix;
    this.what = "etcd watch of " + (prefix ? "prefix '" : "key '") + keyPrefix + key + "'";
    this.timeout = timeout;
    this.listeners = Listeners.create(what);
    this.listeners.add(listener);
    this.totals = totals;
    this.nextRevision = fromRevision;
  }

  /**
   * Starts a watch whose first delivered change has a revision of at least {@code fromRevision}.
   *
   * @param keyPrefix the store's prefix, removed from the keys handed to the listener
   * @param key the key, or the prefix, below {@code keyPrefix}
   */
  static KvWatch start(Client client, String keyPrefix, String key, boolean prefix, long fromRevision,
      KvWatchListener listener, Duration timeout, Counters totals) {
    KvWatch watch = new KvWatch(client, keyPrefix, key, prefix, fromRevision, listener, timeout, totals);
    synchronized (watch) {
      watch.open();
    }
    return watch;
  }

  /** The content of a key or prefix at one revision. */
  record Snapshot(List<KvEntry> entries, long revision) {}

  /** Reads a key or a prefix (linearizable), its entries sorted by key. */
  static CompletableFuture<Snapshot> read(Client client, String keyPrefix, String key, boolean prefix) {
    return client.getKVClient().get(Etcd.bytes(keyPrefix + key), GetOption.builder().isPrefix(prefix).build())
        .thenApply(r -> snapshot(r, keyPrefix));
  }

  static Snapshot snapshot(GetResponse r, String keyPrefix) {
    List<KvEntry> entries = new ArrayList<>(r.getKvs().size());
    for (KeyValue kv : r.getKvs()) {
      entries.add(new KvEntry(Etcd.text(kv.getKey()).substring(keyPrefix.length()), Etcd.text(kv.getValue()),
          kv.getCreateRevision(), kv.getModRevision(), kv.getVersion()));
    }
    return new Snapshot(List.copyOf(entries), r.getHeader().getRevision());
  }

  /** Opens a stream from {@link #nextRevision}; call with the lock held. */
  private void open() {
    int gen = ++generation;
    WatchOption option = WatchOption.builder().withRevision(nextRevision).isPrefix(prefix)
        .withRequireLeader(true).withCreateNotify(true).withProgressNotify(true).build();
    try {
      current = client.getWatchClient().watch(watched, option, new Watch.Listener() {
        @Override
        public void onNext(WatchResponse response) {
          deliver(gen, response);
        }

        // jetcd calls these two holding its watch client's lock; handled on another thread, so that
        // this watch's lock is never wanted under jetcd's (a listener closing a watch takes them the
        // other way round)
        @Override
        public void onError(Throwable error) {
          CompletableFuture.runAsync(() -> failed(gen, error));
        }

        @Override
        public void onCompleted() {
          CompletableFuture.runAsync(() -> failed(gen, null));
        }
      });
    } catch (ClosedClientException e) {
      LOG.warn("{}: the etcd client is closed; the watch stops", what);
      closed = true;
    } catch (RuntimeException e) {
      failed(gen, e);
    }
  }

  private void deliver(int gen, WatchResponse response) {
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      backoffMillis = FIRST_BACKOFF_MILLIS;
      List<WatchEvent> events = response.getEvents();
      if (events.isEmpty()) {
        if (response.isProgressNotify()) {
          // every change up to the header's revision has been sent: a reconnect may start after it
          // (so a quiet watch does not fall behind the compaction)
          nextRevision = Math.max(nextRevision, response.getHeader().getRevision() + 1);
        }
        return; // created or progress notice
      }
      long from = nextRevision;
      for (WatchEvent e : events) {
        KeyValue kv = e.getKeyValue();
        long revision = kv.getModRevision();
        if (revision < from || e.getEventType() == WatchEvent.EventType.UNRECOGNIZED) {
          continue; // delivered already, before a reconnect
        }
        boolean put = e.getEventType() == WatchEvent.EventType.PUT;
        KvEvent event = new KvEvent(put ? KvEvent.Type.PUT : KvEvent.Type.DELETE,
            Etcd.text(kv.getKey()).substring(keyPrefix.length()), put ? Etcd.text(kv.getValue()) : "", revision);
        nextRevision = Math.max(nextRevision, revision + 1);
        listeners.fire(l -> l.onEvent(event));
      }
    }
  }

  /** A stream ended: {@code error} null when etcd or jetcd completed it without one. */
  private void failed(int gen, Throwable error) {
    Watch.Watcher stale;
    long delay;
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      generation++; // whatever the old stream still sends is ignored
      stale = current;
      current = null;
      delay = backoffMillis;
      backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
    }
    errors.incrementAndGet();
    totals.errors.increment();
    if (stale != null) {
      CompletableFuture.runAsync(stale::close); // not on jetcd's thread, inside its error handling
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof CompactedException c) {
      compactions.incrementAndGet();
      totals.compactions.increment();
      LOG.warn("{}: etcd compacted up to revision {}, past the next revision this watch needs; re-reading",
          what, c.getCompactedRevision());
      resync(c.getCompactedRevision(), 0);
    } else if (cause instanceof ClosedClientException) {
      LOG.warn("{}: the etcd client is closed; the watch stops", what);
      close();
    } else {
      LOG.info("{}: stream ended ({}); reopening from revision {} in {}ms", what,
          cause == null ? "completed by etcd" : cause.toString(), nextRevision(), delay);
      later(delay, () -> {
        synchronized (this) {
          if (!closed) {
            reconnects.incrementAndGet();
            totals.reconnects.increment();
            open();
          }
        }
      });
    }
  }

  /** Re-reads the watched key or prefix after a compaction, hands it to the listener, watches on from it. */
  private void resync(long compactRevision, long delay) {
    later(delay, () -> client.getKVClient().get(watched, GetOption.builder().isPrefix(prefix).build())
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((response, error) -> {
          if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
            long next;
            synchronized (this) {
              if (closed) {
                return;
              }
              next = backoffMillis;
              backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
            }
            errors.incrementAndGet();
            totals.errors.increment();
            if (cause instanceof ClosedClientException) {
              LOG.warn("{}: the etcd client is closed; the watch stops", what);
              close();
              return;
            }
            LOG.info("{}: re-reading after the compaction failed ({}); retrying in {}ms", what, cause, next);
            resync(compactRevision, next);
            return;
          }
          Snapshot snapshot = snapshot(response, keyPrefix);
          synchronized (this) {
            if (closed) {
              return;
            }
            nextRevision = snapshot.revision() + 1;
            listeners.fire(l -> l.onCompacted(compactRevision, snapshot.entries(), snapshot.revision()));
            reconnects.incrementAndGet();
            totals.reconnects.increment();
            open();
          }
        }));
  }

  private static void later(long delayMillis, Runnable task) {
    CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS).execute(task);
  }

  /** @return the store revision the next delivered change will have at least */
  public synchronized long nextRevision() {
    return nextRevision;
  }

  /** @return how many times this watch's stream failed or ended (each is followed by a reconnect or a re-read) */
  public long errors() {
    return errors.get();
  }

  /** @return how many times this watch opened a new stream after one failed */
  public long reconnects() {
    return reconnects.get();
  }

  /** @return how many times etcd had compacted the revisions this watch needed, so it re-read instead */
  public long compactions() {
    return compactions.get();
  }

  /** @return whether {@link #close()} was called (or the client was closed) */
  public synchronized boolean isClosed() {
    return closed;
  }

  /** Stops the watch; the listener is not called once this returns. Does nothing the second time. */
  @Override
  public void close() {
    Watch.Watcher w;
    synchronized (this) {
      if (closed && current == null) {
        return;
      }
      closed = true;
      w = current;
      current = null;
    }
    if (w != null) {
      w.close();
    }
  }

  @Override
  public String toString() {
    return "KvWatch[" + what + ", next revision " + nextRevision() + ", errors " + errors() + ", reconnects "
        + reconnects() + (isClosed() ? ", closed]" : "]");
  }

  /** Totals over every watch of one owner, for a starter to expose. */
  static final class Counters {
    final LongAdder errors = new LongAdder();
    final LongAdder reconnects = new LongAdder();
    final LongAdder compactions = new LongAdder();
  }
}
