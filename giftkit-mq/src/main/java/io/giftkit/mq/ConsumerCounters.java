package io.giftkit.mq;

import java.util.concurrent.atomic.LongAdder;

/**
 * The counters a consumer's poll loops add to and {@link GiftkitConsumer}'s accessors read. Striped
 * ({@link LongAdder}): the loops never contend. Thread-safe.
 */
final class ConsumerCounters {
  final LongAdder handled = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder filtered = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder retried = new LongAdder();
  final LongAdder deadLetterFailures = new LongAdder();
  final LongAdder timeouts = new LongAdder();
  final LongAdder batchFailures = new LongAdder();
  final LongAdder lagAlerts = new LongAdder();
  final LongAdder membershipLosses = new LongAdder();
  final LongAdder budgetCuts = new LongAdder();
  final LongAdder retryTopicPublishes = new LongAdder();
  final LongAdder retryTopicFailures = new LongAdder();
}
