package io.giftkit.coord;

import io.giftkit.core.Checks;

/**
 * One key's value in {@link ConsistentKv}, with etcd's revisions: {@code modRevision} is the revision
 * of its last write (what {@link ConsistentKv#compareAndSet} compares), {@code version} counts writes
 * since it was created.
 *
 * @param key the key, without the store's prefix
 * @param value the value (UTF-8 text)
 * @param createRevision the revision that created it
 * @param modRevision the revision of its last write
 * @param version its write count since creation, from 1
 */
public record KvEntry(String key, String value, long createRevision, long modRevision, long version) {
  /**
   * Checks the components.
   *
   * @param key the key, without the store's prefix; not null
   * @param value the value; not null
   * @param createRevision the revision that created it
   * @param modRevision the revision of its last write
   * @param version its write count since creation
   */
  public KvEntry {
    Checks.requireNonNull("key", key);
    Checks.requireNonNull("value", value);
  }
}
