package io.giftkit.coord;

import io.giftkit.core.Checks;
import java.time.Duration;

/** The rule every lease TTL of this module follows. */
final class Leases {

  private Leases() {}

  /**
   * @return {@code ttl}, if it is whole seconds and at least 2 s (etcd raises shorter TTLs to its minimum)
   * @throws io.giftkit.core.InvalidConfigException {@code "<parameter> must be whole seconds, at least 2s, but was 1500ms"}
   */
  static Duration requireTtl(String parameter, Duration ttl) {
    Checks.requirePositive(parameter, ttl);
    if (ttl.toNanos() % 1_000_000_000L != 0 || ttl.toSeconds() < 2) {
      throw Checks.invalid(parameter, "must be whole seconds, at least 2s", ttl);
    }
    return ttl;
  }
}
