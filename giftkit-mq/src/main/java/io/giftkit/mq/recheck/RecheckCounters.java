package io.giftkit.mq.recheck;

import java.util.concurrent.atomic.LongAdder;

/** What a {@link DelayedRecheck} counts; shared by its facade and its poller. Thread-safe, never blocks. */
final class RecheckCounters {
  final LongAdder scheduled = new LongAdder();
  final LongAdder resolved = new LongAdder();
  final LongAdder retried = new LongAdder();
  final LongAdder alerted = new LongAdder();
  final LongAdder failures = new LongAdder();
  final LongAdder timeouts = new LongAdder();
  final LongAdder abandoned = new LongAdder();
  final LongAdder lostLeases = new LongAdder();
  final LongAdder databaseErrors = new LongAdder();
}
