package io.giftkit.boot;

import io.giftkit.core.InvalidConfigException;
import java.util.Locale;

/**
 * A {@code giftkit.*} property broke a rule; {@link GiftkitFailureAnalyzer} turns it into a start-up
 * report naming the property, the bad value and the rule.
 */
public final class GiftkitPropertyException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String property;
  private final String rule;
  private final String value;

  GiftkitPropertyException(String property, String rule, String value, Throwable cause) {
    super(property + " " + rule + ", but was " + value, cause);
    this.property = property;
    this.rule = rule;
    this.value = value;
  }

  /**
   * Restates a builder's complaint about a parameter in terms of the property that set it.
   *
   * @param prefix the properties' prefix, e.g. {@code giftkit.breaker.instances.privileged}
   * @param e the builder's exception; its parameter name becomes the property's kebab-case name
   * @return the exception to throw
   */
  public static GiftkitPropertyException of(String prefix, InvalidConfigException e) {
    return new GiftkitPropertyException(prefix + "." + kebab(e.parameter()), e.rule(), e.value(), e);
  }

  /**
   * For a rule no builder checks (or a value that must not be shown, e.g. a URL holding a password).
   *
   * @param property the full property name
   * @param rule the rule, e.g. {@code must be a redis:// URL}
   * @param shownValue the value as it may be shown
   * @return the exception to throw
   */
  public static GiftkitPropertyException invalid(String property, String rule, String shownValue) {
    return new GiftkitPropertyException(property, rule, shownValue, null);
  }

  static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }

  /** @return the full property name, e.g. {@code giftkit.breaker.instances.privileged.failure-rate-threshold} */
  public String property() {
    return property;
  }

  /** @return the rule, e.g. {@code must be in (0, 100]} */
  public String rule() {
    return rule;
  }

  /** @return the bad value as shown */
  public String value() {
    return value;
  }
}
