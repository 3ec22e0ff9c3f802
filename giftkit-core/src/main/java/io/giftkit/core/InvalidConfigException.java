package io.giftkit.core;

/**
 * A configuration value or argument broke a rule. The message always names the parameter, the rule
 * and the bad value: {@code "failureRateThreshold must be in (0, 100], but was 120.0"}, and the three
 * parts are available separately so that integrations (the Spring Boot starter's failure analyzer,
 * for one) can restate them in their own terms.
 *
 * <p>It is an {@link IllegalArgumentException} because that is what Java callers expect from a bad
 * argument. Create it with {@link Checks#invalid}; the {@code require…} methods of {@link Checks}
 * throw it.
 */
public final class InvalidConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String parameter;
  private final String rule;
  private final String value;

  InvalidConfigException(String parameter, String rule, String value) {
    super(parameter + " " + rule + ", but was " + value);
    this.parameter = parameter;
    this.rule = rule;
    this.value = value;
  }

  /**
   * Returns the name of the parameter that was wrong.
   *
   * @return e.g. {@code "failureRateThreshold"}
   */
  public String parameter() {
    return parameter;
  }

  /**
   * Returns the rule that was broken, phrased to follow the parameter name.
   *
   * @return e.g. {@code "must be in (0, 100]"}
   */
  public String rule() {
    return rule;
  }

  /**
   * Returns the bad value as shown in the message ({@code "null"} for a missing value; secrets are
   * never passed here).
   *
   * @return e.g. {@code "120.0"}
   */
  public String value() {
    return value;
  }
}
