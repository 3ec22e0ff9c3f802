package io.giftkit.cache;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The count-min sketch behind {@link HotKeyDetector}: {@code depth} rows of {@code width} 32-bit
 * counters, one counter per row for each key hash, incremented atomically so that concurrent records
 * are never lost. Its estimate, the smallest of a key's counters, can only over-estimate.
 *
 * <p>Thread-safe; never blocks. {@link #decay} races increments: an increment racing the decay of its
 * counter may be lost (a count of one, once per decay).
 */
final class CountMinSketch {

  private static final int[] SEEDS = {0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1, 0xD3A2646C,
      0xFD7046C5, 0xB55A4F09};

  /** The most rows a sketch may have. */
  static final int MAX_DEPTH = SEEDS.length;

  private final int depth;
  private final int widthMask;
  private final int log2Width;
  private final AtomicIntegerArray cells;

  /**
   * Creates an empty sketch.
   *
   * @param depth rows, in [1, {@link #MAX_DEPTH}] (checked by the caller)
   * @param width counters per row, a power of two (checked by the caller)
   */
  CountMinSketch(int depth, int width) {
    this.depth = depth;
    this.widthMask = width - 1;
    this.log2Width = Integer.numberOfTrailingZeros(width);
    this.cells = new AtomicIntegerArray(depth * width);
  }

  /**
   * Counts one record of a key.
   *
   * @param hash the key's spread hash ({@link #spread})
   * @return the key's estimate after this record, at least 1
   */
  int increment(int hash) {
    int min = Integer.MAX_VALUE;
    for (int row = 0; row < depth; row++) {
      min = Math.min(min, cells.incrementAndGet(index(hash, row)));
    }
    return min;
  }

  /**
   * Reads a key's estimate.
   *
   * @param hash the key's spread hash
   * @return the smallest of its counters
   */
  int estimate(int hash) {
    int min = Integer.MAX_VALUE;
    for (int row = 0; row < depth; row++) {
      min = Math.min(min, cells.get(index(hash, row)));
    }
    return min;
  }

  /**
   * Adds {@code count} records of a key at once (a demoted hot key's count handed back).
   *
   * @param hash the key's spread hash
   * @param count non-negative
   */
  void add(int hash, int count) {
    for (int row = 0; row < depth; row++) {
      cells.addAndGet(index(hash, row), count);
    }
  }

  /**
   * Multiplies every counter by {@code factor}, rounding down. Takes time in proportion to the
   * sketch's size; called once per tick.
   *
   * @param factor in [0, 1]
   */
  void decay(double factor) {
    // Release stores, not volatile ones: a full fence per counter made the decay of 131,072 counters cost
    // milliseconds per tick; no reader needs the decayed values in any order.
    for (int i = 0; i < cells.length(); i++) {
      int v = cells.getPlain(i);
      if (v != 0) {
        cells.setRelease(i, (int) (v * factor)); // an increment racing this may be lost: a count of one, once
      }
    }
  }

  /** @return the sketch's size in bytes */
  long bytes() {
    return 4L * cells.length();
  }

  private int index(int hash, int row) {
    int mixed = hash * SEEDS[row];
    return (row << log2Width) + ((mixed ^ (mixed >>> 16)) & widthMask);
  }

  /**
   * Spreads a hash code so that keys with nearby codes (sequential ids) land far apart.
   *
   * @param h a hash code
   * @return the spread hash
   */
  static int spread(int h) {
    h ^= h >>> 16;
    h *= 0x7feb352d;
    h ^= h >>> 15;
    h *= 0x846ca68b;
    return h ^ (h >>> 16);
  }
}
