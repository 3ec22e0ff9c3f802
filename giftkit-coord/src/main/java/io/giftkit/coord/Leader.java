package io.giftkit.coord;

import io.giftkit.core.Checks;

/**
 * Who leads an election, as {@link EtcdElections#leader} reads it or a {@link LeaderListener} hears it.
 *
 * @param election the election's name
 * @param value what the leader campaigned with (typically its address or instance id)
 * @param token the leader's token: the create revision of its key, higher for every later leader of
 *     this election (usable as a fencing token, see {@link Leadership#token()})
 * @param key the leader's etcd key (prefix, name, lease id)
 */
public record Leader(String election, String value, long token, String key) {
  /**
   * Checks the components.
   *
   * @param election the election's name; not null
   * @param value the leader's value; not null
   * @param token the leader's token; positive
   * @param key the leader's key; not null
   */
  public Leader {
    Checks.requireNonNull("election", election);
    Checks.requireNonNull("value", value);
    Checks.requirePositive("token", token);
    Checks.requireNonNull("key", key);
  }
}
