package io.giftkit.shard;

import io.giftkit.core.Checks;
import java.time.Duration;

/**
 * Settings of the slow-SQL breaker ({@link ShardedJdbc#slowSqlBreaker}): per (statement template,
 * shard), when the window holds at least {@code minimumCalls} calls and the slow ones (at least
 * {@link ShardedJdbc#slowThreshold}) reach {@code slowCallRateThreshold} percent, calls of the
 * template on the shard fail at once for {@code openDuration}; then {@code halfOpenProbes} calls
 * decide. Immutable and thread-safe; built by {@link #builder()}, each setter checking its value at
 * once and naming it when it is bad.
 *
 * <pre>{@code
 * SlowSqlBreakerConfig config = SlowSqlBreakerConfig.builder()
 *     .slowCallRateThreshold(50).minimumCalls(10).window(Duration.ofSeconds(10))
 *     .openDuration(Duration.ofSeconds(5)).halfOpenProbes(3).maxTemplates(1_000).build();
 * }</pre>
 */
public final class SlowSqlBreakerConfig {

  /** Default slow-call rate, in percent of the window's calls, that opens the breaker: 50. */
  public static final double DEFAULT_SLOW_CALL_RATE_THRESHOLD = 50;
  /** Default calls the window must hold before the rate is judged: 10. */
  public static final int DEFAULT_MINIMUM_CALLS = 10;
  /** Default sliding window (time-based, {@value #WINDOW_BUCKETS} buckets): 10 s. */
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
  /** Default cooldown: 5 s. */
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(5);
  /** Default probe calls let through after the cooldown: 3. */
  public static final int DEFAULT_HALF_OPEN_PROBES = 3;
  /** Default bound on the templates tracked: 1,000. */
  public static final int DEFAULT_MAX_TEMPLATES = 1_000;
  /** Buckets of the sliding window. */
  public static final int WINDOW_BUCKETS = 10;

  private static final SlowSqlBreakerConfig DEFAULTS = builder().build();

  private final double slowCallRateThreshold;
  private final int minimumCalls;
  private final Duration window;
  private final Duration openDuration;
  private final int halfOpenProbes;
  private final int maxTemplates;

  private SlowSqlBreakerConfig(Builder b) {
    this.slowCallRateThreshold = b.slowCallRateThreshold;
    this.minimumCalls = b.minimumCalls;
    this.window = b.window;
    this.openDuration = b.openDuration;
    this.halfOpenProbes = b.halfOpenProbes;
    this.maxTemplates = b.maxTemplates;
  }

  /** @return a builder holding the defaults */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the defaults: 50 %, 10 calls, 10 s window, 5 s cooldown, 3 probes, 1,000 templates */
  public static SlowSqlBreakerConfig ofDefaults() {
    return DEFAULTS;
  }

  /** @return the slow-call rate, in percent, that opens the breaker */
  public double slowCallRateThreshold() {
    return slowCallRateThreshold;
  }

  /** @return the calls the window must hold before the rate is judged */
  public int minimumCalls() {
    return minimumCalls;
  }

  /** @return the sliding window's length */
  public Duration window() {
    return window;
  }

  /** @return how long calls are refused once the breaker opens */
  public Duration openDuration() {
    return openDuration;
  }

  /** @return the probe calls let through after the cooldown */
  public int halfOpenProbes() {
    return halfOpenProbes;
  }

  /** @return the most templates tracked; further ones run unguarded */
  public int maxTemplates() {
    return maxTemplates;
  }

  @Override
  public String toString() {
    return "SlowSqlBreakerConfig{slowCallRateThreshold=" + slowCallRateThreshold + ", minimumCalls=" + minimumCalls
        + ", window=" + Checks.describe(window) + ", openDuration=" + Checks.describe(openDuration)
        + ", halfOpenProbes=" + halfOpenProbes + ", maxTemplates=" + maxTemplates + "}";
  }

  /** Builds a {@link SlowSqlBreakerConfig}; not thread-safe. */
  public static final class Builder {
    private double slowCallRateThreshold = DEFAULT_SLOW_CALL_RATE_THRESHOLD;
    private int minimumCalls = DEFAULT_MINIMUM_CALLS;
    private Duration window = DEFAULT_WINDOW;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private int halfOpenProbes = DEFAULT_HALF_OPEN_PROBES;
    private int maxTemplates = DEFAULT_MAX_TEMPLATES;

    private Builder() {}

    /**
     * @param percent the slow-call rate that opens the breaker; in (0, 100]; default 50
     * @return this
     */
    public Builder slowCallRateThreshold(double percent) {
      this.slowCallRateThreshold = Checks.requireInRange("slowCallRateThreshold", percent, 0, false, 100, true);
      return this;
    }

    /**
     * @param calls the calls the window must hold before the rate is judged; in [1, 10000]; default 10
     * @return this
     */
    public Builder minimumCalls(int calls) {
      this.minimumCalls = (int) Checks.requireInRange("minimumCalls", calls, 1, 10_000);
      return this;
    }

    /**
     * @param window the sliding window, time-based in {@value #WINDOW_BUCKETS} buckets; 100 ms to 10 min; default 10 s
     * @return this
     */
    public Builder window(Duration window) {
      this.window = within("window", window, Duration.ofMillis(100), Duration.ofMinutes(10));
      return this;
    }

    /**
     * @param cooldown how long calls are refused once the breaker opens; 10 ms to 1 h; default 5 s
     * @return this
     */
    public Builder openDuration(Duration cooldown) {
      this.openDuration = within("openDuration", cooldown, Duration.ofMillis(10), Duration.ofHours(1));
      return this;
    }

    /**
     * @param probes the calls let through after the cooldown; in [1, 100]; default 3
     * @return this
     */
    public Builder halfOpenProbes(int probes) {
      this.halfOpenProbes = (int) Checks.requireInRange("halfOpenProbes", probes, 1, 100);
      return this;
    }

    /**
     * @param templates the most statement templates tracked (each uses about 500 bytes per shard it
     *     ran on); further templates run unguarded and are counted; in [1, 100000]; default 1,000
     * @return this
     */
    public Builder maxTemplates(int templates) {
      this.maxTemplates = (int) Checks.requireInRange("maxTemplates", templates, 1, 100_000);
      return this;
    }

    /** @return the configuration */
    public SlowSqlBreakerConfig build() {
      return new SlowSqlBreakerConfig(this);
    }

    private static Duration within(String name, Duration d, Duration min, Duration max) {
      Checks.requirePositive(name, d);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw Checks.invalid(name, "must be in [" + Checks.describe(min) + ", " + Checks.describe(max) + "]", d);
      }
      return d;
    }
  }
}
