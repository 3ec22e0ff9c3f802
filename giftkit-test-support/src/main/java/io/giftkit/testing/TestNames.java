package io.giftkit.testing;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/** Unique, readable names for throw-away databases, key prefixes and topics. */
final class TestNames {

  private TestNames() {}

  /** {@code label} reduced to {@code [a-z0-9_]}, at most {@code max} characters, then a random suffix. */
  static String unique(String label, int max, char separator) {
    String clean = label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
    if (clean.isEmpty()) {
      clean = "test";
    }
    if (clean.length() > max) {
      clean = clean.substring(0, max);
    }
    return clean + separator + randomHex();
  }

  /** Eight random hex digits. */
  static String randomHex() {
    return String.format("%08x", ThreadLocalRandom.current().nextInt());
  }

  static String env(String name, String defaultValue) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? defaultValue : value;
  }
}
