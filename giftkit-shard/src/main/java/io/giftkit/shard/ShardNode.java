package io.giftkit.shard;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.core.Site;

/** One node of a shard: its pool (created on first use unless eager), its health and its lag. */
final class ShardNode {
  final int shard;
  final int index;
  final String role;
  final String url;
  final String user;
  final Site site;
  final HikariConfig config;
  volatile HikariDataSource pool;
  volatile long unhealthyUntil;
  volatile long primaryDownUntil;
  volatile String lastFailure;
  volatile boolean grantsChecked;
  volatile ReplicaLag.Sample lag; // the last lag measurement (lag checks on), null before the first
  volatile int lagState; // ReplicaLag's: unmeasured, within the bound, over it
  volatile boolean staleWarned; // served a WEAK read over the bound (primary down) and said so

  ShardNode(int shard, int index, String url, String user, Site site, HikariConfig config) {
    this.shard = shard;
    this.index = index;
    this.role = "node " + index;
    this.url = url;
    this.user = user;
    this.site = site;
    this.config = config;
  }

  HikariDataSource pool() {
    HikariDataSource p = pool;
    if (p == null) {
      synchronized (this) {
        p = pool;
        if (p == null) {
          p = new HikariDataSource(config);
          pool = p;
        }
      }
    }
    return p;
  }

  String describe(String currentRole) {
    return "shard " + shard + " " + currentRole + " (" + url + ")";
  }
}
