package io.giftkit.boot;

/**
 * Lets the {@code giftkit} endpoint close the slow-SQL breakers of a statement template without
 * knowing the shard module's classes. The shard auto-configuration provides it.
 */
public interface GiftkitSlowSqlBreakers {

  /**
   * @param template the template as the endpoint shows it (whitespace collapsed)
   * @return how many (template, shard) breakers were OPEN or HALF_OPEN and are now CLOSED
   */
  int resetSlowSqlBreaker(String template);
}
