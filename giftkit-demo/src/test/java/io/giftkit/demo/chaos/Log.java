package io.giftkit.demo.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/** The runner's own log: each line to stdout and to {@code chaos.log} in the run dir, stamped with the run second. */
final class Log {

  private final Path file;
  private volatile long zero = System.nanoTime();
  private volatile String phase = "setup ";

  Log(Path file) {
    this.file = file;
  }

  /** Makes "now" second 0 (the load's start). */
  void resetClock(long nanos) {
    zero = nanos;
    phase = "";
  }

  synchronized void line(String format, Object... args) {
    String text = String.format(Locale.ROOT, "[chaos %s%7.1fs] ", phase, (System.nanoTime() - zero) / 1e9)
        + String.format(Locale.ROOT, format, args);
    System.out.println(text);
    try {
      Files.writeString(file, text + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
