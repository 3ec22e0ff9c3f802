package io.giftkit.shard;

import io.giftkit.core.Checks;
import io.giftkit.shard.ShardedJdbc.ShardWriteException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The month tables' lifecycle behind {@link ShardedJdbc}: create ahead, on a schedule, retire old ones. */
final class MonthTables {

  private static final Logger LOG = LoggerFactory.getLogger(ShardedJdbc.class);

  private final ShardRouter router;
  private final ShardDataSources nodes;

  MonthTables(ShardRouter router, ShardDataSources nodes) {
    this.router = router;
    this.nodes = nodes;
  }

  /** See {@link ShardedJdbc#retire}. */
  int retire(Instant now, int keepMonths, int lookBackMonths, String archivePrefix) {
    Checks.requireInRange("keepMonths", keepMonths, 2, 1_200);
    Checks.requireInRange("lookBackMonths", lookBackMonths, 1, 240);
    if (archivePrefix != null) {
      Checks.requireMatches("archivePrefix", archivePrefix, java.util.regex.Pattern.compile("[A-Za-z0-9_]{1,20}"),
          "1 to 20 characters of A-Z, a-z, 0-9 or '_'");
    }
    YearMonth oldestKept = router.monthOf(now).minusMonths(keepMonths - 1L);
    int retired = 0;
    for (int shard = 0; shard < nodes.shards(); shard++) {
      try (Connection c = nodes.connection(shard, Consistency.STRONG); Statement s = c.createStatement()) {
        for (int back = 1; back <= lookBackMonths; back++) {
          String table = router.table(oldestKept.minusMonths(back));
          try (ResultSet rs = c.getMetaData().getTables(c.getCatalog(), null, table, new String[] {"TABLE"})) {
            if (!rs.next()) {
              continue;
            }
          }
          s.execute(archivePrefix == null ? "DROP TABLE IF EXISTS " + table
              : "RENAME TABLE " + table + " TO " + archivePrefix + table);
          retired++;
        }
      } catch (SQLException e) {
        throw new ShardWriteException("retiring old tables on shard " + shard + " failed: " + e.getMessage(), e);
      }
    }
    return retired;
  }

  /** See {@link ShardedJdbc#scheduleTableLifecycle}. */
  AutoCloseable schedule(String ddlTemplate, Duration interval, java.time.Clock clock) {
    Checks.requirePositive("interval", interval);
    Checks.requireNonNull("clock", clock);
    Runnable ensure = () -> {
      YearMonth month = router.monthOf(clock.instant());
      try {
        ensure(ddlTemplate, month, month.plusMonths(1));
      } catch (RuntimeException e) {
        LOG.error("GiftKit: ensuring the month tables of {} failed; will retry", router.logicalTable(), e);
      }
    };
    ensure.run();
    java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "giftkit-shard-tables-" + router.logicalTable());
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(ensure, interval.toMillis(), interval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    return scheduler::shutdownNow;
  }

  /** See {@link ShardedJdbc#ensureTables}. */
  int ensure(String ddlTemplate, YearMonth... months) {
    Checks.requireNonBlank("ddlTemplate", ddlTemplate);
    if (!ddlTemplate.contains("{table}") || !ddlTemplate.toUpperCase(java.util.Locale.ROOT).contains("IF NOT EXISTS")) {
      throw Checks.invalid("ddlTemplate", "must be CREATE TABLE IF NOT EXISTS {table} (...)", "\"" + ddlTemplate + "\"");
    }
    int ensured = 0;
    ShardWriteException failed = null;
    for (int shard = 0; shard < nodes.shards(); shard++) { // one shard down must not leave the others without tables
      try (Connection c = nodes.connection(shard, Consistency.STRONG); Statement s = c.createStatement()) {
        for (YearMonth m : months) {
          s.execute(ddlTemplate.replace("{table}", router.table(m)));
          ensured++;
        }
      } catch (SQLException | ShardUnavailableException e) {
        ShardWriteException f = new ShardWriteException("creating tables on shard " + shard + " failed: "
            + e.getMessage(), e);
        if (failed == null) {
          failed = f;
        } else {
          failed.addSuppressed(f);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
    return ensured;
  }
}
