package io.giftkit.shard;

import java.time.Duration;
import java.util.List;

/**
 * Hears changes of a shard's topology, for alerts and metrics. Called on the thread that saw the
 * change (a caller whose write was refused, the topology-check thread, the replica-lag thread); a
 * listener that throws is logged and ignored. Register with {@link ShardDataSources#addTopologyListener}.
 */
public interface TopologyListener {

  /**
   * A shard's writes moved to another node (a switchover, a failover, or start-up discovery finding
   * the writer is not node 0).
   *
   * @param shard the shard
   * @param fromUrl the JDBC URL of the node writes went to before
   * @param toUrl the JDBC URL of the node they go to now
   */
  default void onPrimaryChanged(int shard, String fromUrl, String toUrl) {}

  /**
   * More than one node of a shard says it is writable: STRONG connections to the shard fail until
   * only one is (see {@link ShardDataSources#splitBrain(int)}). Worth an alert.
   *
   * @param shard the shard
   * @param writableUrls the JDBC URLs of the nodes that said they are writable
   */
  default void onSplitBrain(int shard, List<String> writableUrls) {}

  /**
   * The split brain of a shard is over: one node is writable and the others read-only again.
   *
   * @param shard the shard
   * @param primaryUrl the JDBC URL of the node writes go to now
   */
  default void onSplitBrainResolved(int shard, String primaryUrl) {}

  /**
   * A replica's measured lag went over {@code maxReplicaLag} (or could not be measured): WEAK reads
   * skip it until it catches up. Fired by the lag checks' thread, once per crossing.
   *
   * @param shard the shard
   * @param url the replica's JDBC URL
   * @param lag the lag measured, or null if unknown (heartbeat unreadable, no primary to compare with)
   */
  default void onReplicaLagging(int shard, String url, Duration lag) {}

  /**
   * A replica that was over {@code maxReplicaLag} (or unknown) is within it again: WEAK reads use it.
   *
   * @param shard the shard
   * @param url the replica's JDBC URL
   * @param lag the lag measured
   */
  default void onReplicaCaughtUp(int shard, String url, Duration lag) {}
}
