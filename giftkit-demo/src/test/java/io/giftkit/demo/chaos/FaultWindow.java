package io.giftkit.demo.chaos;

/**
 * A fault as it happened, in seconds of the run.
 *
 * @param label what (e.g. {@code KAFKA_KILL}, {@code APP_KILL(app-2)})
 * @param description the fault in words
 * @param start when it was injected (kill or SIGSTOP)
 * @param restarted when the restart (or SIGCONT) was issued
 * @param end when the component was ready again
 * @param note anything worth saying (e.g. started late because the previous recovery took long)
 */
record FaultWindow(String label, String description, double start, double restarted, double end, String note) {

  boolean contains(double second) {
    return second >= start && second < end;
  }
}
