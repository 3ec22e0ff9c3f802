package io.giftkit.core;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Argument and configuration checks whose failures name the parameter, the rule and the bad value:
 *
 * <pre>{@code
 * Checks.requireInRange("failureRateThreshold", 120.0, 0, false, 100, true);
 * // InvalidConfigException: failureRateThreshold must be in (0, 100], but was 120.0
 * }</pre>
 *
 * <p>Builders call these at once, in each setter, and use {@link #invalid} for cross-field rules in
 * {@code build()}. A bad value is never silently replaced by a default. Every method is static,
 * thread-safe and allocation-free when the check passes.
 */
public final class Checks {

  private Checks() {}

  /**
   * Creates the exception for a broken rule, for checks this class does not cover (typically
   * cross-field rules in a builder's {@code build()}).
   *
   * @param parameter the parameter's name, e.g. {@code "slowCallThreshold"}
   * @param rule the rule, phrased to follow the name, e.g. {@code "must not exceed timeout (50ms)"}
   * @param value the bad value; {@link Duration}s are shown as {@code 50ms}, {@code 5s} …
   * @return the exception, for the caller to throw
   */
  public static InvalidConfigException invalid(String parameter, String rule, Object value) {
    return new InvalidConfigException(parameter, rule, describe(value));
  }

  /**
   * Requires a value to be present.
   *
   * @param <T> the value's type
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must not be null, but was null"}
   */
  public static <T> T requireNonNull(String parameter, T value) {
    if (value == null) {
      throw invalid(parameter, "must not be null", null);
    }
    return value;
  }

  /**
   * Requires a string to contain a non-whitespace character.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException if it is null, empty or whitespace only
   */
  public static String requireNonBlank(String parameter, String value) {
    if (value == null || value.isBlank()) {
      throw invalid(parameter, "must not be blank", value == null ? null : "\"" + value + "\"");
    }
    return value;
  }

  /**
   * Requires a string to match a pattern.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @param pattern the pattern the whole value must match
   * @param ruleDescription how a user should read the pattern, e.g. {@code "lower-case letters,
   *     digits and '-', 1 to 32 characters"}
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must be <ruleDescription>, but was "…""}
   */
  public static String requireMatches(
      String parameter, String value, Pattern pattern, String ruleDescription) {
    requireNonNull(parameter, value);
    if (!pattern.matcher(value).matches()) {
      throw invalid(parameter, "must be " + ruleDescription, "\"" + value + "\"");
    }
    return value;
  }

  /**
   * Requires a number to be greater than zero.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must be > 0, but was -1"}
   */
  public static long requirePositive(String parameter, long value) {
    if (value <= 0) {
      throw invalid(parameter, "must be > 0", value);
    }
    return value;
  }

  /**
   * Requires a number to be zero or more.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must be >= 0, but was -1"}
   */
  public static long requireNonNegative(String parameter, long value) {
    if (value < 0) {
      throw invalid(parameter, "must be >= 0", value);
    }
    return value;
  }

  /**
   * Requires a number to lie in {@code [min, max]}.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @param min the smallest allowed value
   * @param max the largest allowed value
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must be in [1, 1024], but was 0"}
   */
  public static long requireInRange(String parameter, long value, long min, long max) {
    if (value < min || value > max) {
      throw invalid(parameter, "must be in [" + min + ", " + max + "]", value);
    }
    return value;
  }

  /**
   * Requires a number to lie in a range whose ends are each open or closed. NaN is always rejected.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @param min the lower end
   * @param minInclusive whether {@code min} itself is allowed
   * @param max the upper end
   * @param maxInclusive whether {@code max} itself is allowed
   * @return {@code value}
   * @throws InvalidConfigException {@code "<parameter> must be in (0, 100], but was 120.0"}
   */
  public static double requireInRange(
      String parameter,
      double value,
      double min,
      boolean minInclusive,
      double max,
      boolean maxInclusive) {
    boolean aboveMin = minInclusive ? value >= min : value > min;
    boolean belowMax = maxInclusive ? value <= max : value < max;
    if (!(aboveMin && belowMax)) { // also true for NaN
      throw invalid(
          parameter,
          "must be in "
              + (minInclusive ? "[" : "(")
              + number(min)
              + ", "
              + number(max)
              + (maxInclusive ? "]" : ")"),
          value);
    }
    return value;
  }

  /**
   * Requires a duration to be greater than zero.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException if it is null, zero or negative: {@code "<parameter> must be
   *     positive, but was 0ms"}
   */
  public static Duration requirePositive(String parameter, Duration value) {
    requireNonNull(parameter, value);
    if (value.isZero() || value.isNegative()) {
      throw invalid(parameter, "must be positive", value);
    }
    return value;
  }

  /**
   * Requires a duration to be zero or more.
   *
   * @param parameter the parameter's name
   * @param value the value
   * @return {@code value}
   * @throws InvalidConfigException if it is null or negative
   */
  public static Duration requireNonNegative(String parameter, Duration value) {
    requireNonNull(parameter, value);
    if (value.isNegative()) {
      throw invalid(parameter, "must not be negative", value);
    }
    return value;
  }

  /**
   * Shows a value the way the messages of this class do: {@code null} as {@code "null"}, a
   * {@link Duration} in the largest exact unit ({@code 50ms}, {@code 5s}, {@code 1500us}), anything
   * else by {@code toString()}.
   *
   * @param value the value
   * @return its description
   */
  public static String describe(Object value) {
    if (value instanceof Duration) {
      return describeDuration((Duration) value);
    }
    return String.valueOf(value);
  }

  private static String describeDuration(Duration d) {
    long nanos;
    try {
      nanos = d.toNanos();
    } catch (ArithmeticException tooLong) {
      return d.toString();
    }
    if (nanos == 0) {
      return "0ms";
    }
    long[] unitNanos = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L,
        1_000_000L, 1_000L, 1L};
    String[] unitNames = {"d", "h", "m", "s", "ms", "us", "ns"};
    for (int i = 0; i < unitNanos.length; i++) {
      if (nanos % unitNanos[i] == 0) {
        return (nanos / unitNanos[i]) + unitNames[i];
      }
    }
    return nanos + "ns"; // unreachable: every value is a whole number of nanoseconds
  }

  private static String number(double d) {
    return d == Math.rint(d) && !Double.isInfinite(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
