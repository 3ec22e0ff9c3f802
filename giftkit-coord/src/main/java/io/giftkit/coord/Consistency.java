package io.giftkit.coord;

/** How a {@link ConsistentKv} read is served; chosen per call. */
public enum Consistency {
  /**
   * Through the etcd leader's read index: the read sees every write acknowledged before it started,
   * whichever member or client wrote it. Costs a round trip to the leader (and fails without a quorum).
   */
  LINEARIZABLE,
  /**
   * From the answering member's own copy, without asking the leader: fast and available without a
   * quorum, but possibly stale (a member cut off from the leader keeps answering with old data).
   * {@link KvRead#mayBeStale()} says so.
   */
  SERIALIZABLE
}
