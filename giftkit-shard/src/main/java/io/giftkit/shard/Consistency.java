package io.giftkit.shard;

/** How fresh a read must be; passed explicitly with every read (no thread-local hints). */
public enum Consistency {
  /** Read your writes, payments: the shard's primary. */
  STRONG,
  /**
   * May lag: a healthy replica of the local site, else another replica, else the primary. How far a
   * replica may lag is unbounded unless {@code ShardDataSources.Builder.maxReplicaLag} is set; a
   * writer's own reads go to the primary for a while with {@code ShardedJdbc.readYourWrites}.
   */
  WEAK
}
