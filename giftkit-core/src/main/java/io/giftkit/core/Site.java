package io.giftkit.core;

import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The identity of a data centre ("site") in a multi-active deployment: a short validated name such
 * as {@code "a"}, {@code "sh-2"} or {@code "bj_idc1"}. Messages carry their origin site, consumers
 * drop messages of other sites, and weak reads prefer replicas of the local site.
 *
 * <p>A site name is 1 to 32 characters: lower-case ASCII letters, digits, {@code '-'} and
 * {@code '_'}, starting with a letter or digit. Names are compared exactly; an upper-case name is
 * rejected rather than silently lower-cased, so two services can never disagree on a tag.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Site {

  /** The environment variable read by {@link #resolve(String)} when no site is configured. */
  public static final String ENV_VARIABLE = "GIFTKIT_SITE";

  /** The longest allowed name. */
  public static final int MAX_LENGTH = 32;

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0," + (MAX_LENGTH - 1) + "}");
  private static final String RULE =
      "1 to " + MAX_LENGTH + " characters of a-z, 0-9, '-' or '_', starting with a letter or digit";

  private final String name;

  private Site(String name) {
    this.name = name;
  }

  /**
   * Returns the site with the given name.
   *
   * @param name the site's name
   * @return the site
   * @throws InvalidConfigException if the name breaks the rule above, e.g. {@code "site must be 1 to
   *     32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit, but was "SH 1""}
   */
  public static Site of(String name) {
    return new Site(Checks.requireMatches("site", name, NAME, RULE));
  }

  /**
   * Resolves the local site: the configured name if there is one, else the {@value #ENV_VARIABLE}
   * environment variable.
   *
   * @param configured the configured name (e.g. the {@code giftkit.site} property), or {@code null}
   *     or blank if none was configured
   * @return the local site
   * @throws InvalidConfigException if neither is set, or the name found is invalid
   */
  public static Site resolve(String configured) {
    return resolve(configured, System::getenv);
  }

  /**
   * As {@link #resolve(String)}, reading the environment through {@code environment} (for tests and
   * for frameworks that have their own view of the environment).
   *
   * @param configured the configured name, or {@code null} or blank if none was configured
   * @param environment looks up an environment variable, returning {@code null} when it is unset
   * @return the local site
   * @throws InvalidConfigException if neither is set, or the name found is invalid
   */
  public static Site resolve(String configured, Function<String, String> environment) {
    if (configured != null && !configured.isBlank()) {
      return of(configured);
    }
    String fromEnv = environment.apply(ENV_VARIABLE);
    if (fromEnv != null && !fromEnv.isBlank()) {
      try {
        return of(fromEnv);
      } catch (InvalidConfigException e) {
        throw Checks.invalid(ENV_VARIABLE, "must be " + RULE, "\"" + fromEnv + "\"");
      }
    }
    throw Checks.invalid(
        "site", "must be configured (set giftkit.site or the " + ENV_VARIABLE + " environment variable)", null);
  }

  /**
   * Returns the site's name.
   *
   * @return the name, as given to {@link #of}
   */
  public String name() {
    return name;
  }

  /**
   * Whether a tag (e.g. a message header's value) names this site.
   *
   * @param tag the tag, may be {@code null}
   * @return {@code true} if it equals this site's name exactly
   */
  public boolean matches(String tag) {
    return name.equals(tag);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Site && ((Site) o).name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  /** Returns the site's name. */
  @Override
  public String toString() {
    return name;
  }
}
