package io.giftkit.coord;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.giftkit.core.Checks;
import java.time.Duration;
import java.util.Optional;

/**
 * The strongly consistent key-value tier on etcd (Raft): what must not be lost or read stale
 * across sites, where Redis is only a cache. Each read chooses its {@link Consistency}; writes always
 * go through the leader and a quorum.
 *
 * <pre>{@code
 * ConsistentKv kv = ConsistentKv.builder(client).keyPrefix("gift/").build();
 * long rev = kv.put("room:42:owner", "site-a");
 * KvRead read = kv.get("room:42:owner", Consistency.LINEARIZABLE);   // sees the put, from any member
 * boolean moved = kv.compareAndSet("room:42:owner", read.entry().orElseThrow().modRevision(), "site-b");
 * }</pre>
 *
 * <p>{@link #watch} and {@link #watchPrefix} follow a key or a prefix as it changes.
 *
 * <p>Values are UTF-8 text. Thread-safe; every call blocks for one etcd round trip, bounded by the
 * timeout ({@link io.giftkit.core.GiftkitTimeoutException}); other etcd failures are
 * {@link io.giftkit.core.GiftkitException}s. The {@link Client} stays the caller's.
 */
public final class ConsistentKv {

  /** Default budget for one call: 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Client client;
  private final String keyPrefix;
  private final Duration timeout;
  private final KvWatch.Counters watchCounters = new KvWatch.Counters();

  private ConsistentKv(Builder b) {
    this.client = b.client;
    this.keyPrefix = b.keyPrefix;
    this.timeout = b.timeout;
  }

  /**
   * @param client the jetcd client; the caller keeps owning it
   * @return a builder: no key prefix, 5 s timeout
   */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /**
   * Reads a key.
   *
   * @param key not blank
   * @param consistency {@link Consistency#LINEARIZABLE} to see every acknowledged write, or
   *     {@link Consistency#SERIALIZABLE} for the answering member's possibly stale copy
   * @return the entry (or none) and the revision read
   */
  public KvRead get(String key, Consistency consistency) {
    ByteSequence k = key(key);
    Checks.requireNonNull("consistency", consistency);
    GetResponse r = Etcd.await(client.getKVClient().get(k,
        GetOption.builder().withSerializable(consistency == Consistency.SERIALIZABLE).build()), timeout,
        "etcd get '" + key + "' (" + consistency + ")");
    Optional<KvEntry> entry = r.getKvs().isEmpty() ? Optional.empty() : Optional.of(entry(key, r.getKvs().get(0)));
    return new KvRead(entry, r.getHeader().getRevision(), consistency);
  }

  /**
   * Writes a key, without expiry.
   *
   * @param key not blank
   * @param value not null
   * @return the revision of the write (the entry's new {@code modRevision})
   */
  public long put(String key, String value) {
    ByteSequence k = key(key);
    Checks.requireNonNull("value", value);
    PutResponse r = Etcd.await(client.getKVClient().put(k, Etcd.bytes(value)), timeout, "etcd put '" + key + "'");
    return r.getHeader().getRevision();
  }

  /**
   * Writes a key that etcd deletes after {@code ttl} (through a lease of its own that nobody renews;
   * etcd rounds the TTL up to whole seconds and to its minimum, about 2 s).
   *
   * @param key not blank
   * @param value not null
   * @param ttl positive
   * @return the revision of the write
   */
  public long put(String key, String value, Duration ttl) {
    ByteSequence k = key(key);
    Checks.requireNonNull("value", value);
    Checks.requirePositive("ttl", ttl);
    long seconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
    LeaseGrantResponse lease = Etcd.await(client.getLeaseClient().grant(seconds), timeout,
        "etcd lease for '" + key + "'");
    PutResponse r = Etcd.await(client.getKVClient().put(k, Etcd.bytes(value),
        PutOption.builder().withLeaseId(lease.getID()).build()), timeout, "etcd put '" + key + "' with ttl");
    return r.getHeader().getRevision();
  }

  /**
   * Writes {@code newValue} only if the key's last write is still the one the caller read.
   *
   * @param key not blank
   * @param expectedModRevision the {@link KvEntry#modRevision()} read before, or 0 for "the key must not exist"
   * @param newValue not null
   * @return whether it was written (false: another write came first, or the key's existence differs)
   */
  public boolean compareAndSet(String key, long expectedModRevision, String newValue) {
    ByteSequence k = key(key);
    Checks.requireNonNegative("expectedModRevision", expectedModRevision);
    Checks.requireNonNull("newValue", newValue);
    Cmp cmp = expectedModRevision == 0 ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
        : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision));
    TxnResponse r = Etcd.await(client.getKVClient().txn().If(cmp)
        .Then(Op.put(k, Etcd.bytes(newValue), PutOption.DEFAULT)).commit(), timeout,
        "etcd compare-and-set '" + key + "'");
    return r.isSucceeded();
  }

  /**
   * Deletes a key.
   *
   * @param key not blank
   * @return whether it existed
   */
  public boolean delete(String key) {
    ByteSequence k = key(key);
    DeleteResponse r = Etcd.await(client.getKVClient().delete(k), timeout, "etcd delete '" + key + "'");
    return r.getDeleted() > 0;
  }

  /**
   * Watches one key: {@code listener} hears each put and delete of it, in revision order, until the
   * returned watch is closed. The watch survives member restarts and compaction (see {@link KvWatch}).
   *
   * <pre>{@code
   * try (KvWatch watch = kv.watch("room:42:owner", 0, event -> moveRoom(event.value(), event.revision()))) {
   *   ...
   * }
   * }</pre>
   *
   * @param key not blank
   * @param fromRevision the first revision to deliver, replaying the history from there (for example
   *     a {@link KvRead#revision()} plus one, so nothing after the read is missed); 0 for "every change
   *     after this call": one round trip reads the current revision first
   * @param listener hears the changes; must not block
   * @return the running watch; close it to stop
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   * @throws io.giftkit.core.GiftkitTimeoutException if etcd does not answer the read for {@code fromRevision} 0
   */
  public KvWatch watch(String key, long fromRevision, KvWatchListener listener) {
    key(key);
    return startWatch(key, false, fromRevision, listener);
  }

  /**
   * Watches every key that starts with {@code prefix} (below this store's key prefix), as
   * {@link #watch} does one key.
   *
   * @param prefix the keys' common start; empty watches every key of this store
   * @param fromRevision the first revision to deliver; 0 for every change after this call
   * @param listener hears the changes, with keys relative to this store (the prefix included); must not block
   * @return the running watch; close it to stop
   * @throws io.giftkit.core.InvalidConfigException naming the bad argument
   * @throws io.giftkit.core.GiftkitTimeoutException if etcd does not answer the read for {@code fromRevision} 0
   */
  public KvWatch watchPrefix(String prefix, long fromRevision, KvWatchListener listener) {
    Checks.requireNonNull("prefix", prefix);
    return startWatch(prefix, true, fromRevision, listener);
  }

  private KvWatch startWatch(String key, boolean prefix, long fromRevision, KvWatchListener listener) {
    Checks.requireNonNegative("fromRevision", fromRevision);
    Checks.requireNonNull("listener", listener);
    long from = fromRevision;
    if (from == 0) {
      GetResponse r = Etcd.await(client.getKVClient().get(Etcd.bytes(keyPrefix + key),
          GetOption.builder().isPrefix(prefix).withCountOnly(true).build()), timeout,
          "etcd read of the revision to watch '" + key + "' from");
      from = r.getHeader().getRevision() + 1;
    }
    return KvWatch.start(client, keyPrefix, key, prefix, from, listener, timeout, watchCounters);
  }

  /** @return how many times a watch of this store saw its stream fail or end, in total (for metrics) */
  public long watchErrors() {
    return watchCounters.errors.sum();
  }

  /** @return how many times a watch of this store opened a new stream after one failed, in total */
  public long watchReconnects() {
    return watchCounters.reconnects.sum();
  }

  /** @return how many times a watch of this store found its next revision compacted and re-read, in total */
  public long watchCompactions() {
    return watchCounters.compactions.sum();
  }

  private ByteSequence key(String key) {
    Checks.requireNonBlank("key", key);
    return Etcd.bytes(keyPrefix + key);
  }

  private static KvEntry entry(String key, KeyValue kv) {
    return new KvEntry(key, Etcd.text(kv.getValue()), kv.getCreateRevision(), kv.getModRevision(), kv.getVersion());
  }

  /** Builds a {@link ConsistentKv}; not thread-safe. */
  public static final class Builder {
    private final Client client;
    private String keyPrefix = "";
    private Duration timeout = DEFAULT_TIMEOUT;

    private Builder(Client client) {
      this.client = Checks.requireNonNull("client", client);
    }

    /**
     * @param keyPrefix prepended to every key in etcd; default none
     * @return this builder
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = Checks.requireNonNull("keyPrefix", keyPrefix);
      return this;
    }

    /**
     * @param timeout the budget for one call; default 5 s
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Checks.requirePositive("timeout", timeout);
      return this;
    }

    /** @return the store */
    public ConsistentKv build() {
      return new ConsistentKv(this);
    }
  }
}
