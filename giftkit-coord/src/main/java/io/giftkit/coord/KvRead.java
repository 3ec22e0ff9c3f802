package io.giftkit.coord;

import io.giftkit.core.Checks;
import java.util.Optional;

/**
 * The answer to a {@link ConsistentKv#get}: the entry if the key exists, the store revision the read
 * saw, and how it was served.
 *
 * @param entry the entry, or empty if the key does not exist (as of {@code revision})
 * @param revision the store revision the answering member had applied when it read
 * @param consistency how the read was served
 */
public record KvRead(Optional<KvEntry> entry, long revision, Consistency consistency) {
  /**
   * Checks the components.
   *
   * @param entry the entry or empty; not null
   * @param revision the store revision read
   * @param consistency how it was served; not null
   */
  public KvRead {
    Checks.requireNonNull("entry", entry);
    Checks.requireNonNull("consistency", consistency);
  }

  /**
   * @return true for a {@link Consistency#SERIALIZABLE} read: served from one member's copy, it may
   *     miss writes acknowledged before it (the member may lag or be cut off from the leader)
   */
  public boolean mayBeStale() {
    return consistency == Consistency.SERIALIZABLE;
  }
}
