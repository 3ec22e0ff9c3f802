package io.giftkit.shard.id;

import io.giftkit.core.GiftkitException;

/**
 * An {@link IdGenerator} cannot issue an id without risking a duplicate, or cannot claim a worker id
 * at all. Thrown by {@link IdGenerator#start()} when no worker id is free or the lease table cannot
 * be reached, and by {@link IdGenerator#nextId()} when the generator's logical time has reached its
 * reservation and extending the reservation failed (the database is unreachable, or the lease was
 * taken over by another instance after this one could not renew it in time).
 *
 * <p>The message names the table, the worker id and owner when known, and the cause. Created only by
 * the package's static factories; instances thrown from {@code nextId()} carry no stack trace,
 * because they come in storms and the message says what happened. Immutable and thread-safe.
 */
public final class IdGeneratorUnavailableException extends GiftkitException {

  private static final long serialVersionUID = 1L;

  private final String table;

  private IdGeneratorUnavailableException(
      String table, String message, Throwable cause, boolean stackTrace) {
    super(message, cause, stackTrace);
    this.table = table;
  }

  static IdGeneratorUnavailableException claimFailed(String table, String why, Throwable cause) {
    return new IdGeneratorUnavailableException(
        table, "cannot claim a worker id from table " + table + ": " + why, cause, true);
  }

  static IdGeneratorUnavailableException cannotIssue(
      String table, int workerId, String owner, String why, Throwable cause) {
    return new IdGeneratorUnavailableException(
        table,
        "id generator (table " + table + ", worker " + workerId + ", owner " + owner
            + ") cannot issue an id: " + why,
        cause,
        false);
  }

  /**
   * Returns the lease table the generator uses.
   *
   * @return the table's name
   */
  public String table() {
    return table;
  }
}
