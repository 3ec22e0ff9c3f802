package io.giftkit.cache;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis side of a {@link TieredCache}'s invalidations: the tombstone that replaces a key's value
 * in Redis, the queue of tombstones Redis did not take yet, and the pub/sub messages that make the
 * other instances drop their L1 copies.
 *
 * <p>A tombstone is written at once when Redis answers, else queued (at most {@code maxPending} keys;
 * beyond that a key's Redis invalidation is dropped, counted and logged once per outage). The
 * background thread calls {@link #flush()} every batch window: it writes the queued tombstones, then
 * publishes the keys of the window, so a message never reaches another instance before its
 * tombstone is in Redis (that instance would reload the old value from Redis). A key whose tombstone
 * is queued is neither read from nor written to Redis by this instance ({@link #pending}). Keys to
 * publish are deduplicated per window; if more than {@code maxPending} wait (Redis down), one message
 * telling the others to drop all of their L1 replaces them ({@code "<instance id>\tall"}, no keys:
 * older versions ignore it).
 *
 * <p>Under {@link InvalidationMode#CLIENT_TRACKING} nothing is published: the tombstone's (or the
 * {@code put}'s) write in Redis is what Redis tells the other instances about. Queued tombstones are
 * written as above; if keys were dropped from a full queue, the background thread writes the
 * reserved key {@link ClientTracking#ALL_KEY} once Redis answers, telling the others to drop all of
 * their L1. Thread-safe.
 */
final class Invalidations {

  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);
  private static final int MAX_KEYS_PER_FLUSH = 1_000;
  private static final String ALL_SUFFIX = "\tall";

  private final String name;
  private final String keyPrefix;
  private final String channel;
  private final RedisLink link;
  private final RedisEntries entries;
  private final long timeoutNanos;
  private final long backgroundTimeoutNanos;
  private final long tombstoneTtlMillis;
  private final int maxPending;
  private final boolean tracking;
  private final String instanceId = UUID.randomUUID().toString();
  private final ConcurrentHashMap<String, Long> pendingTombstones = new ConcurrentHashMap<>();
  private final Set<String> toPublish = ConcurrentHashMap.newKeySet();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicBoolean overflowLogged = new AtomicBoolean();
  private final AtomicBoolean publishAll = new AtomicBoolean();
  private final LongAdder sent = new LongAdder();
  private final LongAdder received = new LongAdder();
  private final LongAdder queued = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  /** Asks for a {@link #flush()} after one batch window: called whenever work is queued. */
  private final Runnable wake;

  Invalidations(String name, String keyPrefix, String channel, RedisLink link, RedisEntries entries, long timeoutNanos,
      long tombstoneTtlMillis, int maxPending, InvalidationMode mode, Runnable wake) {
    this.wake = wake;
    this.name = name;
    this.keyPrefix = keyPrefix;
    this.channel = channel;
    this.link = link;
    this.entries = entries;
    this.timeoutNanos = timeoutNanos;
    this.backgroundTimeoutNanos = Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(1));
    this.tombstoneTtlMillis = tombstoneTtlMillis;
    this.maxPending = maxPending;
    this.tracking = mode == InvalidationMode.CLIENT_TRACKING;
  }

  /** Replaces the key's Redis value with a new tombstone now if Redis answers, else queues it. */
  void writeTombstone(String keyText) {
    RedisClusterAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c != null) {
      try {
        c.set(redisKey(keyText), entries.newTombstone(), SetArgs.Builder.px(tombstoneTtlMillis))
            .get(timeoutNanos, TimeUnit.NANOSECONDS);
        link.answered();
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        link.failed(e);
      } catch (Exception e) {
        link.failed(e);
      }
    }
    queue(keyText);
  }

  /** Queues the key's tombstone for the background thread (bounded). */
  void queue(String keyText) {
    if (pendingTombstones.size() >= maxPending && !pendingTombstones.containsKey(keyText)) {
      dropped.increment();
      if (tracking) {
        publishAll.set(true); // no write will name this key: the others drop all of their L1
        wake.run();
      }
      if (overflowLogged.compareAndSet(false, true)) {
        LOG.warn("GiftKit cache '{}': {} invalidations wait for Redis (maxPendingInvalidations); further keys'"
            + " Redis invalidations are dropped and Redis may serve their old values until their L2 TTL ends",
            name, pendingTombstones.size());
      }
      return;
    }
    queued.increment();
    pendingTombstones.put(keyText, sequence.incrementAndGet());
    wake.run();
  }

  /** @return whether the key's tombstone waits for Redis (then do not use Redis for it) */
  boolean pending(String keyText) {
    return !pendingTombstones.isEmpty() && pendingTombstones.containsKey(keyText);
  }

  /** Publishes the key in the next batch (after any queued tombstone is written). */
  void publish(String keyText) {
    if (tracking) {
      sent.increment(); // its write in Redis (now, or when the queued tombstone goes out) tells the others
      return;
    }
    if (toPublish.size() >= maxPending && !toPublish.contains(keyText)) {
      publishAll.set(true); // too many keys to name: the others drop all of their L1
      wake.run();
      return;
    }
    toPublish.add(keyText);
    wake.run();
  }

  /** @return whether anything waits for {@link #flush()} */
  boolean hasPending() {
    return !pendingTombstones.isEmpty() || !toPublish.isEmpty() || publishAll.get();
  }

  /** Writes queued tombstones, then publishes pending keys; on the background thread. */
  void flush() {
    RedisClusterAsyncCommands<String, byte[]> c = link.commandsIfUsable();
    if (c == null || (pendingTombstones.isEmpty() && toPublish.isEmpty() && !publishAll.get())) {
      return;
    }
    try {
      while (!pendingTombstones.isEmpty()) {
        writeQueuedTombstones(c);
      }
      if (pendingTombstones.isEmpty()) {
        overflowLogged.set(false);
      }
      if (publishAll.getAndSet(false)) {
        toPublish.clear(); // the message below covers every key added before it is published
        try {
          if (tracking) {
            c.set(redisKey(ClientTracking.ALL_KEY), entries.newTombstone(), SetArgs.Builder.px(tombstoneTtlMillis))
                .get(backgroundTimeoutNanos, TimeUnit.NANOSECONDS);
          } else {
            c.publish(channel, (instanceId + ALL_SUFFIX).getBytes(StandardCharsets.UTF_8))
                .get(backgroundTimeoutNanos, TimeUnit.NANOSECONDS);
          }
        } catch (Exception e) {
          publishAll.set(true);
          throw e;
        }
      }
      while (!toPublish.isEmpty()) {
        publishBatch(c);
      }
      link.answered();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      link.failed(e);
    } catch (Exception e) {
      link.failed(e);
    }
  }

  private void writeQueuedTombstones(RedisClusterAsyncCommands<String, byte[]> c) throws Exception {
    List<Map.Entry<String, Long>> batch = new ArrayList<>();
    for (Iterator<Map.Entry<String, Long>> it = pendingTombstones.entrySet().iterator();
        it.hasNext() && batch.size() < MAX_KEYS_PER_FLUSH; ) {
      Map.Entry<String, Long> e = it.next();
      batch.add(Map.entry(e.getKey(), e.getValue()));
    }
    List<RedisFuture<String>> writes = new ArrayList<>(batch.size());
    for (Map.Entry<String, Long> e : batch) {
      writes.add(c.set(redisKey(e.getKey()), entries.newTombstone(), SetArgs.Builder.px(tombstoneTtlMillis)));
    }
    long deadline = System.nanoTime() + backgroundTimeoutNanos;
    for (int i = 0; i < batch.size(); i++) {
      writes.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      Map.Entry<String, Long> e = batch.get(i);
      // a newer invalidation queued meanwhile keeps its own entry (its tombstone goes out next)
      pendingTombstones.remove(e.getKey(), e.getValue());
      if (!tracking) {
        toPublish.add(e.getKey());
      }
    }
  }

  private void publishBatch(RedisClusterAsyncCommands<String, byte[]> c) throws Exception {
    List<String> batch = new ArrayList<>();
    StringBuilder message = new StringBuilder(instanceId);
    for (Iterator<String> it = toPublish.iterator(); it.hasNext() && batch.size() < MAX_KEYS_PER_FLUSH; ) {
      String k = it.next();
      // a key whose tombstone is (again) queued is published once that is written (see above)
      if (toPublish.remove(k) && !pendingTombstones.containsKey(k)) {
        batch.add(k);
        message.append('\n').append(k);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      c.publish(channel, message.toString().getBytes(StandardCharsets.UTF_8))
          .get(backgroundTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      toPublish.addAll(batch); // published with the next batch
      throw e;
    }
    sent.add(batch.size());
  }

  /**
   * Applies another instance's message: {@code drop} gets each key's text, {@code dropAll} runs for
   * a message that names no keys but all; own messages are ignored.
   */
  void onMessage(String message, Consumer<String> drop, Runnable dropAll) {
    if (message.startsWith(instanceId)) {
      return;
    }
    int end = message.indexOf('\n');
    if (end < 0) {
      if (message.endsWith(ALL_SUFFIX)) {
        dropAll.run();
      }
      return;
    }
    for (int start = end + 1; start <= message.length(); start = end + 1) {
      end = message.indexOf('\n', start);
      if (end < 0) {
        end = message.length();
      }
      if (end > start) {
        drop.accept(message.substring(start, end));
        received.increment();
      }
    }
  }

  String redisKey(String keyText) {
    return keyPrefix + ":" + keyText;
  }

  long sent() {
    return sent.sum();
  }

  long received() {
    return received.sum();
  }

  /** Counts keys a tracking message named (under CLIENT_TRACKING; pub/sub counts in {@link #onMessage}). */
  void received(int keys) {
    received.add(keys);
  }

  long queued() {
    return queued.sum();
  }

  long dropped() {
    return dropped.sum();
  }

  int pendingCount() {
    return pendingTombstones.size();
  }
}
