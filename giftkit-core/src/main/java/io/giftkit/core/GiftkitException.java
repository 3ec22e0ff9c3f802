package io.giftkit.core;

/**
 * The base of the runtime failures GiftKit raises (invalid configuration excepted: that is an
 * {@link InvalidConfigException}, an {@link IllegalArgumentException}, as Java callers expect).
 *
 * <p>Subclasses raised on hot paths (rejections, timeouts) are created by static factories and may
 * skip filling in their stack trace, so that a storm of them costs little; the message then carries
 * all the state that explains the failure.
 */
public class GiftkitException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message and, optionally, a cause.
   *
   * @param message what failed, with the state that explains it
   * @param cause the underlying failure, or {@code null}
   */
  public GiftkitException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates an exception with a message.
   *
   * @param message what failed, with the state that explains it
   */
  public GiftkitException(String message) {
    super(message);
  }

  /**
   * For subclasses thrown on hot paths: lets them skip the stack trace. Without a stack trace,
   * suppression is disabled too, so that a preallocated instance thrown many times cannot
   * accumulate suppressed exceptions.
   *
   * @param message what failed, with the state that explains it
   * @param cause the underlying failure, or {@code null}
   * @param writableStackTrace {@code false} to skip filling in the stack trace
   */
  protected GiftkitException(String message, Throwable cause, boolean writableStackTrace) {
    super(message, cause, writableStackTrace, writableStackTrace);
  }
}
