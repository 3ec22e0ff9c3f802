package io.giftkit.shard;

import io.giftkit.core.GiftkitException;

/**
 * A shard's node could not give a connection within the pool's connection timeout, or the shard is
 * fenced because more than one of its nodes is writable ({@link #splitBrain()}). The message names
 * the shard, the node(s), their addresses (never the password) and the pool's state or the nodes'
 * answers. Nothing of the failed call was written to the shard.
 */
public final class ShardUnavailableException extends GiftkitException {

  private static final long serialVersionUID = 1L;

  private final int shard;
  private final boolean splitBrain;

  ShardUnavailableException(int shard, String message, Throwable cause) {
    this(shard, message, cause, false);
  }

  private ShardUnavailableException(int shard, String message, Throwable cause, boolean splitBrain) {
    super(message, cause);
    this.shard = shard;
    this.splitBrain = splitBrain;
  }

  static ShardUnavailableException splitBrain(int shard, String message) {
    return new ShardUnavailableException(shard, message, null, true);
  }

  /**
   * @return whether the shard is fenced because more than one of its nodes is writable (split
   *     brain); writes to it fail until all but one are read-only again
   */
  public boolean splitBrain() {
    return splitBrain;
  }

  /** @return the shard that failed */
  public int shard() {
    return shard;
  }
}
