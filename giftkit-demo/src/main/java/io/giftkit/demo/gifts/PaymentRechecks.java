package io.giftkit.demo.gifts;

import io.giftkit.mq.recheck.DelayedRecheck;
import io.giftkit.mq.recheck.RecheckAlert;
import io.giftkit.shard.ShardDataSources;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The payment re-checks, one {@link DelayedRecheck} per shard with its table
 * ({@code giftkit_recheck}) in the shard's own database: an order's re-check is written in the
 * order's transaction, so no crash can leave an order without the job that settles it. Each
 * shard's scheduler runs on its own thread, so one shard that is down delays only its own orders.
 * Attempts back off exponentially (2 s doubling to 60 s, 100 attempts: well over an hour), so a
 * long provider outage does not use up an order's attempts before the provider can answer. During an
 * outage every send becomes a re-check: each shard runs {@code giftkit.demo.payment-recheck.concurrency}
 * (default 4) at once, so their commits share log flushes, leaving most of the shard's pool to sends.
 */
@Component
public class PaymentRechecks implements SmartLifecycle {

  private static final Logger LOG = LoggerFactory.getLogger(PaymentRechecks.class);
  /** The schedulers' name (a column of each shard's re-check table). */
  public static final String NAME = "payments";

  private final List<DelayedRecheck> perShard = new ArrayList<>();
  private final Duration firstDelay;
  private volatile boolean running;

  public PaymentRechecks(ShardDataSources shards, ObjectProvider<OrderRecheck> handler,
      @Value("${giftkit.demo.payment-recheck.first-delay:3s}") Duration firstDelay,
      @Value("${giftkit.demo.payment-recheck.retry-delay:2s}") Duration retryDelay,
      @Value("${giftkit.demo.payment-recheck.max-retry-delay:60s}") Duration maxRetryDelay,
      @Value("${giftkit.demo.payment-recheck.max-attempts:100}") int maxAttempts,
      @Value("${giftkit.demo.payment-recheck.poll-interval:500ms}") Duration pollInterval,
      @Value("${giftkit.demo.payment-recheck.concurrency:4}") int concurrency) {
    this.firstDelay = firstDelay;
    for (int s = 0; s < shards.shards(); s++) {
      perShard.add(DelayedRecheck.builder(NAME, shards.primaryView(s))
          .handler((key, attempt) -> handler.getObject().check(key, attempt))
          .retryBackoff(retryDelay, maxRetryDelay).maxAttempts(maxAttempts).pollInterval(pollInterval)
          .lease(Duration.ofSeconds(30)).concurrency(concurrency)
          .build());
    }
  }

  /** Creates the re-check table in one shard (idempotent). */
  void createTable(int shard) throws SQLException {
    perShard.get(shard).createTable();
  }

  /** Schedules the order's first re-check in the order's own transaction. */
  void schedule(Connection orderTx, int shard, String key) throws SQLException {
    perShard.get(shard).schedule(orderTx, key, firstDelay);
  }

  /** Cancels the order's re-check in the transaction that settled it. */
  void cancel(Connection orderTx, int shard, String key) throws SQLException {
    perShard.get(shard).cancel(orderTx, key);
  }

  /** @return checks pending over the shards that answer; -1 if a shard did not */
  public long pending() {
    long total = 0;
    for (DelayedRecheck r : perShard) {
      try {
        total += r.pending();
      } catch (SQLException | RuntimeException e) {
        return -1;
      }
    }
    return total;
  }

  /** @return re-checks that exhausted their attempts, over the shards that answer */
  public List<RecheckAlert> alerts() {
    List<RecheckAlert> all = new ArrayList<>();
    for (DelayedRecheck r : perShard) {
      try {
        all.addAll(r.alerts());
      } catch (SQLException | RuntimeException e) {
        LOG.debug("re-check alerts of {} unavailable: {}", r.name(), e.toString());
      }
    }
    return all;
  }

  /** @return checks resolved by this instance */
  public long resolved() {
    return perShard.stream().mapToLong(DelayedRecheck::resolved).sum();
  }

  /** @return the per-shard schedulers */
  public List<DelayedRecheck> schedulers() {
    return List.copyOf(perShard);
  }

  @Override
  public void start() {
    perShard.forEach(DelayedRecheck::start);
    running = true;
  }

  @Override
  public void stop() {
    perShard.forEach(DelayedRecheck::close);
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
