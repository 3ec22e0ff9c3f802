package io.giftkit.boot.mq;

import io.giftkit.mq.recheck.DelayedRecheck;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** {@code giftkit.recheck.*}: the durable delayed re-check, made when a {@code RecheckHandler} bean exists. */
@ConfigurationProperties("giftkit.recheck")
public class GiftkitRecheckProperties {

  /** The scheduler's name: its rows in the table, its thread, its metrics' name tag. */
  private String name = "giftkit";

  /** The table holding the checks. */
  private String table = "giftkit_recheck";

  /** Create the table at start-up if it does not exist. */
  private boolean createTable = true;

  /** Attempts before an unsettled check becomes an alert; 1 to 1000. */
  private int maxAttempts = DelayedRecheck.DEFAULT_MAX_ATTEMPTS;

  /** Delay between attempts. */
  private Duration retryDelay = DelayedRecheck.DEFAULT_RETRY_DELAY;

  /** Time between looks for due checks (a check runs at most this late). */
  private Duration pollInterval = DelayedRecheck.DEFAULT_POLL_INTERVAL;

  /** How long a claimed check is reserved for the instance running it; at least 1 s. */
  private Duration lease = DelayedRecheck.DEFAULT_LEASE;

  /** Checks claimed per look; 1 to 1000. */
  private int batchSize = DelayedRecheck.DEFAULT_BATCH_SIZE;

  /** Checks run at once by this instance (each with its own claim and lease); 1 to 256; needs as many connections. */
  private int concurrency = 1;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getTable() {
    return table;
  }

  public void setTable(String table) {
    this.table = table;
  }

  public boolean isCreateTable() {
    return createTable;
  }

  public void setCreateTable(boolean createTable) {
    this.createTable = createTable;
  }

  public int getMaxAttempts() {
    return maxAttempts;
  }

  public void setMaxAttempts(int maxAttempts) {
    this.maxAttempts = maxAttempts;
  }

  public Duration getRetryDelay() {
    return retryDelay;
  }

  public void setRetryDelay(Duration retryDelay) {
    this.retryDelay = retryDelay;
  }

  public Duration getPollInterval() {
    return pollInterval;
  }

  public void setPollInterval(Duration pollInterval) {
    this.pollInterval = pollInterval;
  }

  public Duration getLease() {
    return lease;
  }

  public void setLease(Duration lease) {
    this.lease = lease;
  }

  public int getConcurrency() {
    return concurrency;
  }

  public void setConcurrency(int concurrency) {
    this.concurrency = concurrency;
  }

  public int getBatchSize() {
    return batchSize;
  }

  public void setBatchSize(int batchSize) {
    this.batchSize = batchSize;
  }
}
