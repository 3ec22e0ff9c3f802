package io.giftkit.coord;

import io.giftkit.core.Listeners;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Follows one election's keys through a {@link KvWatch} and tells a {@link LeaderListener} whenever the
 * leader changes. The leader is the key with the lowest create revision, as etcd's election service
 * decides. Not thread-safe on its own: the watch calls it one call at a time.
 */
final class LeaderObserver implements KvWatchListener {

  private final String election;
  private final Listeners<LeaderListener> listeners;
  private final TreeMap<Long, KvEntry> byCreate = new TreeMap<>();
  private final Map<String, Long> createOf = new HashMap<>();
  private Optional<Leader> leader = Optional.empty();
  private final String keyPrefix;

  /**
   * @param keyPrefix the elections' key prefix, put back in front of the keys the watch hands over
   */
  LeaderObserver(String election, String keyPrefix, LeaderListener listener) {
    this.election = election;
    this.keyPrefix = keyPrefix;
    this.listeners = Listeners.create("etcd election observer '" + election + "'");
    this.listeners.add(listener);
  }

  /** Takes the election's keys as read at one revision and tells the listener who leads. */
  void reset(List<KvEntry> entries) {
    byCreate.clear();
    createOf.clear();
    for (KvEntry e : entries) {
      byCreate.put(e.createRevision(), e);
      createOf.put(e.key(), e.createRevision());
    }
    changed(true);
  }

  @Override
  public void onEvent(KvEvent event) {
    Long create = createOf.get(event.key());
    if (event.type() == KvEvent.Type.DELETE) {
      if (create != null) {
        createOf.remove(event.key());
        byCreate.remove(create);
      }
    } else {
      long c = create != null ? create : event.revision(); // a new key is created by this put
      createOf.put(event.key(), c);
      KvEntry old = byCreate.get(c);
      byCreate.put(c, new KvEntry(event.key(), event.value(), c, event.revision(),
          old == null ? 1 : old.version() + 1));
    }
    changed(false);
  }

  @Override
  public void onCompacted(long compactRevision, List<KvEntry> current, long revision) {
    reset(current);
  }

  private void changed(boolean always) {
    Optional<Leader> now = byCreate.isEmpty() ? Optional.empty() : Optional.of(leader(byCreate.firstEntry().getValue()));
    if (always || !Objects.equals(now, leader)) {
      leader = now;
      listeners.fire(l -> l.onLeaderChange(election, now));
    }
  }

  private Leader leader(KvEntry e) {
    return new Leader(election, e.value(), e.createRevision(), keyPrefix + e.key());
  }
}
