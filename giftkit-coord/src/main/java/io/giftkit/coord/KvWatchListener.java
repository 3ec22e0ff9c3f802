package io.giftkit.coord;

import java.util.List;

/**
 * Hears the changes a {@link KvWatch} sees. Called on a jetcd (or GiftKit) thread, one call at a time
 * per watch, in revision order; it must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface KvWatchListener {

  /**
   * A key was written or deleted.
   *
   * @param event the change, with its revision
   */
  void onEvent(KvEvent event);

  /**
   * etcd compacted away the revisions this watch still needed (it was behind, e.g. while cut off from
   * etcd, or it asked to start from a revision already compacted), so the events between the last one
   * delivered and {@code revision} cannot be replayed. The watch has re-read the watched key or prefix
   * instead: {@code current} is its whole content at {@code revision}, and the events that follow start
   * after {@code revision}. A listener that keeps state replaces it with {@code current}. By default
   * nothing is done (the next events still arrive, the ones in between are missed).
   *
   * @param compactRevision the revision etcd has compacted up to
   * @param current every entry under the watched key or prefix at {@code revision}, by key
   * @param revision the store revision of that read
   */
  default void onCompacted(long compactRevision, List<KvEntry> current, long revision) {}
}
