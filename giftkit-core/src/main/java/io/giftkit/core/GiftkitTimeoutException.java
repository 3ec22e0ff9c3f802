package io.giftkit.core;

import java.time.Duration;
import java.util.Objects;

/**
 * A GiftKit operation did not finish within its time budget. The message names what timed out, the
 * budget, and the state that explains it, in the way HikariCP reports a pool timeout:
 * {@code "privileged-gifts timed out after 50ms (inFlight=64, queued=12)"}.
 *
 * <p>Created only through {@link #of}; the stack trace is not filled in, because the message already
 * says what happened and timeouts come in storms.
 */
public final class GiftkitTimeoutException extends GiftkitException {

  private static final long serialVersionUID = 1L;

  private final String operation;
  private final Duration budget;

  private GiftkitTimeoutException(String operation, Duration budget, String message) {
    super(message, null, false);
    this.operation = operation;
    this.budget = budget;
  }

  /**
   * Creates a timeout exception.
   *
   * @param operation what timed out, e.g. the breaker or pool name; not null
   * @param budget the budget that was exceeded; not null
   * @param state the state that explains the timeout, e.g. {@code "inFlight=64, queued=12"}; may be
   *     {@code null} or empty
   * @return the exception, ready to throw
   */
  public static GiftkitTimeoutException of(String operation, Duration budget, String state) {
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(budget, "budget");
    String message = operation + " timed out after " + Checks.describe(budget);
    if (state != null && !state.isEmpty()) {
      message += " (" + state + ")";
    }
    return new GiftkitTimeoutException(operation, budget, message);
  }

  /**
   * Returns what timed out.
   *
   * @return the operation named at creation
   */
  public String operation() {
    return operation;
  }

  /**
   * Returns the budget that was exceeded.
   *
   * @return the budget
   */
  public Duration budget() {
    return budget;
  }
}
