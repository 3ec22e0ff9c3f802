package io.giftkit.cache;

/**
 * A hot key with its estimated traffic, from {@link HotKeyDetector#hotKeys()}.
 *
 * @param key the key
 * @param estimatedCount estimated accesses in the window (decayed, so recent ticks weigh most)
 * @param estimatedRatePerSecond that count divided by the window's length in seconds
 * @param <K> the key type
 */
public record HotKey<K>(K key, long estimatedCount, double estimatedRatePerSecond) {}
