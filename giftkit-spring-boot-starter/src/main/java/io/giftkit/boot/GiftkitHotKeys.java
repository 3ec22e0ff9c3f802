package io.giftkit.boot;

/** Lets the {@code giftkit} endpoint demote a hot key without knowing the cache module's classes. */
public interface GiftkitHotKeys {

  /**
   * @param cache the cache's name
   * @param key the key as text ({@code String.valueOf(key)})
   * @return whether the key was hot in that cache (and is now demoted)
   */
  boolean clearHotKey(String cache, String key);
}
