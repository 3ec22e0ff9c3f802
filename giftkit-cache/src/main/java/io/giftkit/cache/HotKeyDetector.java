package io.giftkit.cache;

import io.giftkit.core.Checks;
import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finds the keys that take a large share of traffic (a hot room during a big event), in bounded
 * memory however many distinct keys pass:
 *
 * <pre>{@code
 * HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
 *     .window(Duration.ofSeconds(1), 10)
 *     .hotWhenShareAtLeast(0.01)          // or hotWhenCountAtLeast(5_000)
 *     .listener(new HotKeyListener<>() {
 *       public void onHot(String key, long count) { promoteToL1(key); }
 *     })
 *     .build();
 *
 * detector.record(roomKey);               // on every access
 * boolean hot = detector.isHot(roomKey);
 * }</pre>
 *
 * <p><b>How.</b> A count-min sketch ({@code depth} rows of {@code width} counters, each record
 * incrementing one counter per row, atomically, so concurrent records are never lost) estimates each
 * key's count; it can only over-estimate, by little for a sketch this wide, so
 * a key that really crosses the threshold is always found, and a key far below it is never flagged
 * (keys just below it may be). Counts decay once per tick by {@code 1 - 1/ticks}, so for a steady
 * rate the estimate equals the count over the window ({@code window} = {@code ticks} ticks), and a
 * key that cools fades out. A key is hot when its estimate reaches the threshold (an absolute count
 * per window, or a share of all traffic in the window), and cools when its estimate falls below
 * {@code coolRatio} (default 0.8) of the threshold: the hysteresis keeps keys at the threshold from
 * flapping. At most {@code maxHotKeys} keys are hot at once, exactly, however many threads record.
 * When the hot set is full, a new hot key replaces a cold one only if it is more than 1.5 times as hot,
 * so that equally hot keys do not churn: the hot keys are ranked coldest first once per tick (and again
 * when that ranking is used up), and a new hot key is compared with the coldest, estimated now, of the
 * next 8 keys of the ranking (keys that heated up since the ranking are stepped past); keys promoted
 * since the last ranking are not replaced before the next one.
 *
 * <p><b>Cost.</b> {@link #record} is O(1) whatever the number of distinct, warm or hot keys: it
 * allocates nothing (except when a key becomes hot) and takes no lock on its common paths: a random
 * number, a clock read in one recorded access of 8, a look-up in the hot set, then for a hot key one
 * striped-counter increment (hot keys are counted apart, exactly, so the hottest keys do not make
 * threads fight over shared sketch cells) and for any other key a hash and one atomic increment per
 * sketch row. A key over the threshold while the hot set is full is compared with a cached bar (1.5
 * times the coldest eviction candidate's estimate) and, only if it beats the bar, with the next 8 keys
 * of the ranking, under a lock that {@code record} only tries (a record that finds it taken leaves the
 * key's promotion to its next record): no scan of the hot set per record, however many keys sit near
 * the threshold. Once per tick the call that advances the window decays the sketch (O(depth × width))
 * and ranks the hot keys (O(m log m) for m hot keys); a ranking is made again only after m steps
 * through it (each an eviction or a key stepped past, at most 8 per candidate), so O(log m) amortised
 * per candidate that reaches the lock. With {@code sampleOneIn(n)} only one record in n
 * (chosen at random) is counted, and estimates are scaled by n. A demoted key's count goes back into
 * the sketch. Memory: {@code 4 × depth × width} bytes for the sketch (512 KiB by default) plus the hot
 * set (at most {@code maxHotKeys} entries with a counter each).
 *
 * <p>Listeners are called while the hot set's lock is held (so one key's promotions and demotions
 * are heard in order), on the thread that recorded the access or advanced the window: keep them
 * short.
 *
 * <p>Thread-safe. Ticks are advanced by whichever call notices one has passed ({@link #record},
 * {@link #hotKeys}, {@link #tick}); a key stops being hot only when some call advances the window.
 *
 * <p>Past 400 lines because its public {@link Builder} is nested here; the sketch
 * ({@code CountMinSketch}) and the hot set ({@code HotSet}) are package-private classes of their own.
 *
 * @param <K> the key type
 */
public final class HotKeyDetector<K> {

  private static final int CLOCK_CHECK_MASK = 7;

  private final Ticker ticker;
  private final long tickNanos;
  private final double windowSeconds;
  private final double decay;
  private final long absoluteThreshold; // 0 when share-based
  private final double shareThreshold; // 0 when absolute
  private final long minimumHotCount;
  private final double coolRatio;
  private final int sampleMask;
  private final int sampleScale;
  private final CountMinSketch sketch;
  private final LongAdder total = new LongAdder(); // decayed like the cells (approximately: see advance)
  private final AtomicLong nextTickAt;
  // Hot keys' records since their promotion are counted in the hot set, not in the sketch: a striped
  // counter per key, so the hottest keys do not make every thread fight over the same sketch cells.
  // Counts are in sampled units, decayed with the sketch; a hot key's estimate is its sketch count plus
  // its counter.
  private final HotSet<K> hot;
  private final Listeners<HotKeyListener<K>> listeners = Listeners.create("HotKeyDetector");
  private final LongAdder promotions = new LongAdder();
  private final LongAdder demotions = new LongAdder();
  // A lower bound of the threshold, so that most records of keys below it are judged without summing the
  // total (which reads the other threads' cells of the LongAdder). The total only grows between ticks, so
  // the threshold does too: a value computed in this tick stays a lower bound until the next, when
  // advance() lowers it. Only a candidate racing the tick may leave a value of the previous tick (too high
  // by the decay of the ticks passed), which delays promotions until the next tick at worst.
  private volatile long thresholdAtLeast;

  private HotKeyDetector(Builder<K> b) {
    this.ticker = b.ticker;
    this.tickNanos = b.window.toNanos() / b.ticks;
    this.windowSeconds = b.window.toNanos() / 1e9;
    this.decay = 1.0 - 1.0 / b.ticks;
    this.absoluteThreshold = b.absoluteThreshold;
    this.shareThreshold = b.shareThreshold;
    this.minimumHotCount = b.minimumHotCount;
    this.coolRatio = b.coolRatio;
    this.sampleMask = b.sampleOneIn - 1;
    this.sampleScale = b.sampleOneIn;
    this.sketch = new CountMinSketch(b.depth, b.width);
    this.hot = new HotSet<>(b.maxHotKeys, this::estimate, new HotSet.Membership<>() {
      @Override
      public void promoted(K key, long estimate) {
        onPromoted(key, estimate);
      }

      @Override
      public void demoted(K key, long countSincePromotion) {
        onDemoted(key, countSincePromotion);
      }
    });
    this.nextTickAt = new AtomicLong(b.ticker.read() + tickNanos);
    this.thresholdAtLeast = threshold(0);
    b.listeners.forEach(listeners::add);
  }

  /**
   * Starts a builder.
   *
   * @param <K> the key type
   * @return a new builder
   */
  public static <K> Builder<K> builder() {
    return new Builder<>();
  }

  /**
   * Records one access to {@code key}. O(1) whatever the number of keys, warm or hot (see the class
   * description); never waits for a lock, except in the call that advances the window.
   *
   * @param key the key; not null
   */
  public void record(K key) {
    Objects.requireNonNull(key, "key");
    int r = ThreadLocalRandom.current().nextInt();
    if ((r & sampleMask) != 0) {
      return;
    }
    // Reading the clock costs more than the rest of a record; one recorded access in 8 does it, so
    // the window advances a few records late at most (hotKeys() and tick() always read it).
    if (((r >>> 24) & CLOCK_CHECK_MASK) == 0) {
      long now = ticker.read();
      if (now - nextTickAt.get() >= 0) {
        advance(now);
      }
    }
    total.increment();
    LongAdder hotCount = hot.counter(key);
    if (hotCount != null) {
      hotCount.increment();
      return;
    }
    long estimate = (long) sketch.increment(CountMinSketch.spread(key.hashCode())) * sampleScale;
    // Cheapest tests first: most keys are below the threshold's lower bound, and when the hot set is
    // full most of the others are refused by its bar; the total is summed only for the rest.
    if (estimate >= thresholdAtLeast && estimate > hot.bar()) {
      considerPromotion(key, estimate);
    }
  }

  private void considerPromotion(K key, long estimate) {
    long threshold = thresholdAtLeast;
    if (shareThreshold > 0) {
      long tick = nextTickAt.get();
      threshold = threshold(total.sum() * sampleScale);
      if (threshold > thresholdAtLeast && nextTickAt.get() == tick) {
        thresholdAtLeast = threshold; // racy but only ever a value of this tick (see the field)
      }
    }
    if (estimate >= threshold) {
      hot.offer(key, estimate);
    }
  }

  /**
   * Whether {@code key} is hot now.
   *
   * @param key the key
   * @return whether it is in the hot set
   */
  public boolean isHot(K key) {
    return hot.contains(key);
  }

  /**
   * Returns the hot keys with their estimated counts, hottest first, after advancing the window and
   * demoting keys that fell below the cool-down level (with a share threshold, the threshold moves
   * with the traffic).
   *
   * @return a new list
   */
  public List<HotKey<K>> hotKeys() {
    tick();
    coolDown();
    List<HotKey<K>> list = new ArrayList<>();
    for (K key : hot.keys()) {
      long count = estimate(key);
      list.add(new HotKey<>(key, count, count / windowSeconds));
    }
    list.sort(Comparator.comparingLong((HotKey<K> k) -> k.estimatedCount()).reversed());
    return list;
  }

  /**
   * Returns the sketch's estimate of {@code key}'s count in the window (never below the truth for
   * unsampled counting).
   *
   * @param key the key
   * @return the estimate
   */
  public long estimate(K key) {
    LongAdder sincePromotion = hot.counter(Objects.requireNonNull(key, "key"));
    long min = sketch.estimate(CountMinSketch.spread(key.hashCode()));
    return (min + (sincePromotion == null ? 0 : sincePromotion.sum())) * sampleScale;
  }

  /**
   * Demotes a key now (an operator's action, e.g. after an event): listeners hear it cooled, so a
   * {@link TieredCache} drops its in-process copy. If the key is still as hot, its next records
   * promote it again.
   *
   * @param key the key
   * @return whether it was hot
   */
  public boolean clear(K key) {
    Checks.requireNonNull("key", key);
    return hot.remove(key);
  }

  /** Advances the window if a tick has passed (for callers that want demotion without traffic). */
  public void tick() {
    long now = ticker.read();
    if (now - nextTickAt.get() >= 0) {
      advance(now);
    }
  }

  /**
   * Adds a listener.
   *
   * @param listener the listener
   */
  public void addListener(HotKeyListener<K> listener) {
    listeners.add(listener);
  }

  /** @return keys promoted to hot since creation */
  public long promotions() {
    return promotions.sum();
  }

  /** @return keys that cooled down since creation */
  public long demotions() {
    return demotions.sum();
  }

  /** @return the sketch's size in bytes (fixed at construction) */
  public long sketchBytes() {
    return sketch.bytes();
  }

  /** @return the decayed count of all records in the window */
  public long totalInWindow() {
    return total.sum() * sampleScale;
  }

  private long threshold(long totalInWindow) {
    return absoluteThreshold > 0
        ? absoluteThreshold
        : Math.max(minimumHotCount, (long) Math.ceil(shareThreshold * totalInWindow));
  }

  /**
   * A key whose estimate reached the threshold joined the hot set (under its lock). From now on its
   * records go to a counter of its own; its estimate is the sketch's count plus that counter, so
   * records that race the promotion into the sketch are not lost.
   */
  private void onPromoted(K key, long estimate) {
    promotions.increment();
    if (!listeners.isEmpty()) {
      listeners.fire(l -> l.onHot(key, estimate));
    }
  }

  /**
   * A key left the hot set (under its lock). What was counted apart while it was hot goes back into the
   * sketch, so a key that is still warm is not undercounted after its demotion.
   */
  private void onDemoted(K key, long countSincePromotion) {
    sketch.add(CountMinSketch.spread(key.hashCode()), (int) Math.min(Integer.MAX_VALUE, countSincePromotion));
    demotions.increment();
    if (!listeners.isEmpty()) {
      listeners.fire(l -> l.onCooled(key));
    }
  }

  /** Decays the sketch once per tick passed; one caller wins each advance. */
  private void advance(long now) {
    long due = nextTickAt.get();
    if (now - due < 0) {
      return;
    }
    long ticks = (now - due) / tickNanos + 1;
    if (!nextTickAt.compareAndSet(due, due + ticks * tickNanos)) {
      return; // another caller advances
    }
    double factor = Math.pow(decay, Math.min(ticks, 1_000));
    sketch.decay(factor);
    long t = total.sumThenReset();
    total.add((long) (t * factor)); // records racing this reset may be lost from the total: a few, once per tick
    hot.decay(factor); // as the total: a racing record may be lost, once per tick
    thresholdAtLeast = threshold(total.sum() * sampleScale);
    coolDown();
  }

  /**
   * Demotes the hot keys whose estimate fell below {@code coolRatio} of the current threshold and
   * re-ranks the others for eviction: O(m log m) for m hot keys, once per tick.
   */
  private void coolDown() {
    hot.refresh((long) Math.ceil(threshold(total.sum() * sampleScale) * coolRatio));
  }

  /**
   * Builds a {@link HotKeyDetector}. Not thread-safe.
   *
   * @param <K> the key type
   */
  public static final class Builder<K> {
    private Duration window = Duration.ofSeconds(1);
    private int ticks = 10;
    private long absoluteThreshold = 1_000;
    private double shareThreshold;
    private long minimumHotCount = 100;
    private double coolRatio = 0.8;
    private int sampleOneIn = 1;
    private int depth = 4;
    private int width = 32_768;
    private int maxHotKeys = 1_000;
    private Ticker ticker = Ticker.system();
    private final List<HotKeyListener<K>> listeners = new ArrayList<>();

    private Builder() {}

    /**
     * Sets the window over which counts are judged. Default 1 s in 10 ticks.
     *
     * @param window positive
     * @param ticks in [1, 1000]; the window must be a whole number of nanoseconds per tick
     * @return this builder
     */
    public Builder<K> window(Duration window, int ticks) {
      this.window = Checks.requirePositive("window", window);
      this.ticks = (int) Checks.requireInRange("ticks", ticks, 1, 1_000);
      return this;
    }

    /**
     * A key is hot when its estimated count in the window reaches {@code count}. Default 1,000.
     *
     * @param count positive
     * @return this builder
     */
    public Builder<K> hotWhenCountAtLeast(long count) {
      this.absoluteThreshold = Checks.requirePositive("hotCount", count);
      this.shareThreshold = 0;
      return this;
    }

    /**
     * A key is hot when its estimated count reaches {@code share} of all records in the window.
     *
     * @param share in (0, 1]
     * @return this builder
     */
    public Builder<K> hotWhenShareAtLeast(double share) {
      this.shareThreshold = Checks.requireInRange("hotShare", share, 0, false, 1, true);
      this.absoluteThreshold = 0;
      return this;
    }

    /**
     * With a share threshold, a key must also reach this count to be hot, so that the first records
     * of a quiet window do not make keys hot. Default 100.
     *
     * @param count positive
     * @return this builder
     */
    public Builder<K> minimumHotCount(long count) {
      this.minimumHotCount = Checks.requirePositive("minimumHotCount", count);
      return this;
    }

    /**
     * A hot key cools when its estimate falls below {@code ratio} times the threshold. Default 0.8.
     *
     * @param ratio in (0, 1]
     * @return this builder
     */
    public Builder<K> coolRatio(double ratio) {
      this.coolRatio = Checks.requireInRange("coolRatio", ratio, 0, false, 1, true);
      return this;
    }

    /**
     * Counts one record in {@code n}, chosen at random, scaling estimates by n. Default 1 (all).
     *
     * @param n a power of two in [1, 1024]
     * @return this builder
     */
    public Builder<K> sampleOneIn(int n) {
      Checks.requireInRange("sampleOneIn", n, 1, 1_024);
      if (Integer.bitCount(n) != 1) {
        throw Checks.invalid("sampleOneIn", "must be a power of two", n);
      }
      this.sampleOneIn = n;
      return this;
    }

    /**
     * Sizes the sketch. Default 4 rows of 32,768 counters (512 KiB): on Zipf(1.0) traffic that
     * finds every key over a 0.1% share with about 1 false positive in 70 (keys just below it).
     *
     * @param depth rows, in [1, 8]
     * @param width counters per row, a power of two in [64, 1048576]
     * @return this builder
     */
    public Builder<K> sketch(int depth, int width) {
      this.depth = (int) Checks.requireInRange("depth", depth, 1, CountMinSketch.MAX_DEPTH);
      Checks.requireInRange("width", width, 64, 1 << 20);
      if (Integer.bitCount(width) != 1) {
        throw Checks.invalid("width", "must be a power of two", width);
      }
      this.width = width;
      return this;
    }

    /**
     * Bounds the hot set. Default 1,000.
     *
     * @param max in [1, 1000000]
     * @return this builder
     */
    public Builder<K> maxHotKeys(int max) {
      this.maxHotKeys = (int) Checks.requireInRange("maxHotKeys", max, 1, 1_000_000);
      return this;
    }

    /**
     * Sets the time source. Default the system ticker.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder<K> ticker(Ticker ticker) {
      this.ticker = Checks.requireNonNull("ticker", ticker);
      return this;
    }

    /**
     * Adds a listener.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder<K> listener(HotKeyListener<K> listener) {
      listeners.add(Checks.requireNonNull("listener", listener));
      return this;
    }

    /**
     * Builds the detector.
     *
     * @return the detector
     * @throws io.giftkit.core.InvalidConfigException if the window is not a whole number of
     *     nanoseconds per tick
     */
    public HotKeyDetector<K> build() {
      if (window.toNanos() % ticks != 0) {
        throw Checks.invalid("ticks", "must divide window (" + Checks.describe(window) + ") into whole nanoseconds", ticks);
      }
      return new HotKeyDetector<>(this);
    }
  }
}
