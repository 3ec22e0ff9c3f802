package io.giftkit.demo.chaos;

/**
 * One request of the load, as the load balancer saw it in the end.
 *
 * @param endpoint what it called
 * @param startNanos when it was sent, nanoseconds since the load started
 * @param latencyMicros until its final answer or error (a retry included)
 * @param outcome its final outcome
 * @param status the HTTP status, or 0 for an error
 * @param retried whether it was sent again to the other instance after a refused or reset connection
 * @param shard the sender's shard ({@code uid % 10}) for sends, else -1
 * @param detail the error or a short excerpt of a 5xx body; null for 2xx
 */
record Sample(Endpoint endpoint, long startNanos, long latencyMicros, Outcome outcome, int status, boolean retried,
    int shard, String detail) {

  enum Endpoint { PANEL, ROOM, SEND }

  enum Outcome { OK, CLIENT_ERROR, SERVER_ERROR, ERROR }

  double startSecond() {
    return startNanos / 1e9;
  }

  boolean failed() {
    return outcome == Outcome.SERVER_ERROR || outcome == Outcome.ERROR;
  }
}
