package io.giftkit.demo.gifts;

import io.giftkit.shard.id.IdGenerator;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Order ids from giftkit-shard's {@link IdGenerator}: time, a worker id leased in the control
 * database, and a sequence; unique across shards, instances, restarts and clock steps. An order's
 * creation time is its id's timestamp, so the id alone locates the order's month table, and the
 * reconciliation sweep can read the ledger and the provider by id range.
 */
@Configuration(proxyBeanMethods = false)
public class OrderIds {

  @Bean(destroyMethod = "close")
  IdGenerator orderIdGenerator(DataSource control) throws SQLException {
    IdGenerator ids = IdGenerator.builder(control).build();
    ids.createTable();
    ids.start();
    return ids;
  }

  /**
   * @param epochMilli a time
   * @return the lowest id stamped at that time or later
   */
  static long lowestAt(long epochMilli) {
    long since = Math.max(0, epochMilli - IdGenerator.EPOCH.toEpochMilli());
    return since << (IdGenerator.WORKER_BITS + IdGenerator.SEQUENCE_BITS);
  }

  /**
   * @param id an order id
   * @return its timestamp (epoch ms): the order's creation time
   */
  static long timestampOf(long id) {
    return IdGenerator.timestampOf(id).toEpochMilli();
  }
}
