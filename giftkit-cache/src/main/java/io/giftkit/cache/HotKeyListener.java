package io.giftkit.cache;

/**
 * Hears keys becoming hot and cooling down. Called on the thread that recorded the access (for
 * became-hot, and for cooled-down of the key it displaced from a full hot set), that advanced the
 * window or that called {@link HotKeyDetector#clear} (for cooled-down), one call at a time, while the
 * detector's hot set is locked, so one key's calls come in order: keep it quick. A listener that
 * throws is logged and ignored.
 *
 * @param <K> the key type
 */
public interface HotKeyListener<K> {

  /**
   * A key's estimated count in the window reached the threshold.
   *
   * @param key the key
   * @param estimatedCount its estimated accesses in the window
   */
  default void onHot(K key, long estimatedCount) {}

  /**
   * A hot key's estimated count fell below the cool-down level; it is no longer hot.
   *
   * @param key the key
   */
  default void onCooled(K key) {}
}
