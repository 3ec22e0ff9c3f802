package io.giftkit.demo.chaos;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a chaos run does: how long the load lasts, the seed the fault schedule is drawn from, the
 * request rate, how long settlement may take after the load (the horizon) and where the run writes.
 *
 * @param seconds length of the load, at least 30
 * @param seed the fault schedule's and the load mix's seed
 * @param rate requests per second, all endpoints together
 * @param horizon how long settlement may take once the load ended and everything is up
 * @param runDir the run's directory (data dirs, logs, REPORT.md, chart)
 */
record ChaosOptions(int seconds, long seed, int rate, Duration horizon, Path runDir) {

  static final int DEFAULT_SECONDS = 120;
  static final int DEFAULT_RATE = 120;
  static final Duration DEFAULT_HORIZON = Duration.ofSeconds(90);

  ChaosOptions {
    if (seconds < 30) {
      throw new IllegalArgumentException("seconds must be at least 30 (six faults need room), but was " + seconds);
    }
    if (rate < 1 || rate > 2_000) {
      throw new IllegalArgumentException("rate must be in [1, 2000] requests/s, but was " + rate);
    }
  }

  /**
   * Parses {@code [seconds] [seed] [--rate=N] [--horizon=S] [--dir=PATH]}.
   *
   * @param args the arguments
   * @param defaultBase the directory {@code <seed>/} goes under when {@code --dir} is absent
   */
  static ChaosOptions parse(String[] args, Path defaultBase) {
    int seconds = DEFAULT_SECONDS;
    Long seed = null;
    int rate = DEFAULT_RATE;
    Duration horizon = DEFAULT_HORIZON;
    Path dir = null;
    int positional = 0;
    for (String a : args) {
      if (a.startsWith("--rate=")) {
        rate = Integer.parseInt(a.substring(7));
      } else if (a.startsWith("--horizon=")) {
        horizon = Duration.ofSeconds(Long.parseLong(a.substring(10)));
      } else if (a.startsWith("--dir=")) {
        dir = Path.of(a.substring(6));
      } else if (a.startsWith("--")) {
        throw new IllegalArgumentException("unknown option " + a + "; usage: ChaosRun [seconds] [seed] [--rate=N]"
            + " [--horizon=S] [--dir=PATH]");
      } else if (positional++ == 0) {
        seconds = Integer.parseInt(a);
      } else if (positional == 2) {
        seed = Long.parseLong(a);
      } else {
        throw new IllegalArgumentException("too many arguments: " + a);
      }
    }
    long s = seed != null ? seed : new java.util.Random().nextInt(1_000_000);
    return new ChaosOptions(seconds, s, rate, horizon, (dir != null ? dir : defaultBase.resolve(Long.toString(s)))
        .toAbsolutePath());
  }

  /** @return a prefix for the run's database names: {@code chaos_<seed>} (a negative seed as {@code n<abs>}) */
  String databasePrefix() {
    return "chaos_" + (seed < 0 ? "n" + Long.toString(seed).substring(1) : Long.toString(seed));
  }
}
