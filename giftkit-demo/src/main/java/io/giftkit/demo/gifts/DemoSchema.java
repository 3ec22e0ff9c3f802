package io.giftkit.demo.gifts;

import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.mq.outbox.Outbox;
import io.giftkit.shard.ShardDataSources;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Creates the demo's tables at start-up (idempotent). In every shard: the request-id index that
 * makes sends idempotent across month tables, the gift events' outbox and the payment re-checks, so
 * everything an order's transaction writes lives in the order's shard. In the control database: the
 * settlement ledger, the streamers' income, the rooms' rankings, the idempotency keys and the
 * reconciliation alerts. The month tables themselves come from {@code giftkit.demo.orders.ddl}
 * ({@code MonthTableJob}). A shard that is down at start-up does not stop the application: its tables are retried every 5 s (its
 * sends fail with a clear error meanwhile). SQL that runs on MariaDB/MySQL and on H2 in MySQL mode.
 */
@Component
public class DemoSchema implements DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(DemoSchema.class);

  private final ShardDataSources shards;
  private final Outbox outbox;
  private final PaymentRechecks rechecks;
  private final ConcurrentSkipListSet<Integer> missing = new ConcurrentSkipListSet<>();
  private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "giftkit-demo-schema");
    t.setDaemon(true);
    return t;
  });

  public DemoSchema(ShardDataSources shards, DataSource control, JdbcIdempotencyStore store, Outbox outbox,
      PaymentRechecks rechecks) throws SQLException {
    this.shards = shards;
    this.outbox = outbox;
    this.rechecks = rechecks;
    for (int s = 0; s < shards.shards(); s++) {
      missing.add(s);
    }
    ensureShards();
    if (!missing.isEmpty()) {
      retry.scheduleWithFixedDelay(this::ensureShards, 5, 5, TimeUnit.SECONDS);
    }
    try (Connection c = control.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS gift_ledger (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
          + " room_id BIGINT NOT NULL, streamer_uid BIGINT NOT NULL, amount BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS streamer_income (streamer_uid BIGINT PRIMARY KEY, total BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS room_ranking (room_id BIGINT NOT NULL, uid BIGINT NOT NULL,"
          + " total BIGINT NOT NULL, PRIMARY KEY (room_id, uid))");
      st.execute(Reconciliation.DDL);
      store.createTable(c);
    }
  }

  private void ensureShards() {
    for (Integer s : missing) {
      try (Connection c = shards.primaryView(s).getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS gift_request (uid BIGINT NOT NULL, client_request_id VARCHAR(64) NOT NULL,"
            + " order_id BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (uid, client_request_id))");
        outbox.createTable(shards.primaryView(s));
        rechecks.createTable(s);
        missing.remove(s);
        if (missing.isEmpty()) {
          retry.shutdown();
        }
      } catch (SQLException | RuntimeException e) {
        LOG.warn("shard {}: creating the demo's tables failed ({}); retrying every 5 s", s, e.getMessage());
      }
    }
  }

  /** @return whether every shard has its tables */
  public boolean complete() {
    return missing.isEmpty();
  }

  @Override
  public void destroy() {
    retry.shutdownNow();
  }
}
