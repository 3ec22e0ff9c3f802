package io.giftkit.coord;

import io.etcd.jetcd.ByteSequence;
import io.giftkit.core.GiftkitException;
import io.giftkit.core.GiftkitTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for jetcd's futures with a budget, and turns their failures into GiftKit's exceptions. */
final class Etcd {

  private Etcd() {}

  static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  static String text(ByteSequence bytes) {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /**
   * @throws GiftkitTimeoutException after {@code timeout}, the future cancelled
   * @throws GiftkitException if etcd answered with an error or the thread was interrupted (its flag set again)
   */
  static <T> T await(CompletableFuture<T> future, Duration timeout, String operation) {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw GiftkitTimeoutException.of(operation, timeout, "etcd did not answer");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new GiftkitException(operation + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new GiftkitException(operation + " interrupted", e);
    }
  }
}
