package io.giftkit.demo.gifts;

import io.giftkit.mq.JdbcIdempotencyStore;
import io.giftkit.shard.ShardDataSources;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * Creates the demo's tables at start-up (idempotent): in every shard, the request-id index that makes
 * sends idempotent across month tables; in the control database, the settlement ledger, the
 * streamers' income, the rooms' rankings and the idempotency keys. The month tables themselves come
 * from {@code giftkit.shard.ddl}. SQL that runs on MariaDB/MySQL and on H2 in MySQL mode.
 */
@Component
public class DemoSchema {


  public DemoSchema(ShardDataSources shards, DataSource control, JdbcIdempotencyStore store) throws SQLException {
    for (int s = 0; s < shards.shards(); s++) {
      try (Connection c = shards.primary(s).getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS gift_request (uid BIGINT NOT NULL, client_request_id VARCHAR(64) NOT NULL,"
            + " order_id BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (uid, client_request_id))");
      }
    }
    try (Connection c = control.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS gift_ledger (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
          + " room_id BIGINT NOT NULL, streamer_uid BIGINT NOT NULL, amount BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS streamer_income (streamer_uid BIGINT PRIMARY KEY, total BIGINT NOT NULL)");
      st.execute("CREATE TABLE IF NOT EXISTS room_ranking (room_id BIGINT NOT NULL, uid BIGINT NOT NULL,"
          + " total BIGINT NOT NULL, PRIMARY KEY (room_id, uid))");
      store.createTable(c);
    }
  }
}
