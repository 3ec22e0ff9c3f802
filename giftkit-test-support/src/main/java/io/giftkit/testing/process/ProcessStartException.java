package io.giftkit.testing.process;

/** A process that would not start, or did not become ready before its deadline; names it and quotes its log. */
public final class ProcessStartException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  ProcessStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
