package io.giftkit.coord;

import java.util.Optional;

/**
 * Hears who leads an election, from {@link EtcdElections#observe}: once at once with the current
 * leader, then at every change. Called on a jetcd (or the observing) thread, one call at a time; it
 * must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface LeaderListener {

  /**
   * @param election the election's name
   * @param leader the new leader, or empty while nobody leads
   */
  void onLeaderChange(String election, Optional<Leader> leader);
}
