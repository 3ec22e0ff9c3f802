package io.giftkit.shard;

import io.giftkit.core.GiftkitException;

/**
 * A shard's node could not give a connection within the pool's connection timeout. The message
 * names the shard, the node, its address (never the password) and the pool's state.
 */
public final class ShardUnavailableException extends GiftkitException {

  private static final long serialVersionUID = 1L;

  private final int shard;

  ShardUnavailableException(int shard, String message, Throwable cause) {
    super(message, cause);
    this.shard = shard;
  }

  /** @return the shard that failed */
  public int shard() {
    return shard;
  }
}
