package io.giftkit.demo.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The faults of a run and when they start, drawn from the seed: six faults in six equal slots
 * between 12% and 80% of the load, in a shuffled order (Redis is stopped before it is killed; the two
 * application kills hit different instances). Each is down for a few seconds (scaled with the run:
 * about a third of a slot, 2 to 10 s), then restarted or resumed. The faults run one after another,
 * so their windows never overlap; a fault whose slot has passed because the previous recovery took
 * long starts as soon as that recovery ends.
 */
final class FaultPlan {

  enum Kind {
    KAFKA_KILL("kill -9 the Kafka broker, restart it"),
    SHARD9_KILL("kill -9 shard 9's MariaDB server, restart it"),
    APP_KILL("kill -9 an application instance with sends in flight, restart it"),
    REDIS_STOP("SIGSTOP Redis, SIGCONT it"),
    REDIS_KILL("kill -9 Redis, restart it (empty)");

    final String description;

    Kind(String description) {
      this.description = description;
    }
  }

  /**
   * A planned fault.
   *
   * @param kind what
   * @param instance the application instance (0 or 1) for {@link Kind#APP_KILL}, else -1
   * @param startSecond when it is due (seconds into the load)
   * @param downSeconds how long the component stays down/stopped before it is restarted/resumed
   */
  record Planned(Kind kind, int instance, double startSecond, double downSeconds) {
    String label() {
      return kind == Kind.APP_KILL ? "APP_KILL(app-" + (instance + 1) + ")" : kind.name();
    }
  }

  private FaultPlan() {}

  static List<Planned> draw(long seed, int seconds) {
    Random rng = new Random(seed);
    List<Kind> order = new ArrayList<>(List.of(Kind.KAFKA_KILL, Kind.SHARD9_KILL, Kind.APP_KILL, Kind.APP_KILL,
        Kind.REDIS_STOP, Kind.REDIS_KILL));
    Collections.shuffle(order, rng);
    int stop = order.indexOf(Kind.REDIS_STOP);
    int kill = order.indexOf(Kind.REDIS_KILL);
    if (kill < stop) {
      Collections.swap(order, stop, kill);
    }
    int firstApp = rng.nextInt(2);
    double begin = seconds * 0.12;
    double slot = seconds * 0.68 / order.size();
    List<Planned> plan = new ArrayList<>();
    int apps = 0;
    for (int i = 0; i < order.size(); i++) {
      Kind k = order.get(i);
      double down = Math.max(2, Math.min(10, slot * (0.25 + 0.15 * rng.nextDouble())));
      double start = begin + i * slot + rng.nextDouble() * Math.max(0, slot - down) * 0.3;
      int instance = k == Kind.APP_KILL ? (firstApp + apps++) % 2 : -1;
      plan.add(new Planned(k, instance, round(start), round(down)));
    }
    return plan;
  }

  private static double round(double s) {
    return Math.round(s * 10) / 10.0;
  }
}
