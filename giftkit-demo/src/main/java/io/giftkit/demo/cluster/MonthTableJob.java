package io.giftkit.demo.cluster;

import io.giftkit.shard.ShardRouter;
import io.giftkit.shard.ShardedJdbc;
import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The order month tables' lifecycle ({@code giftkit.demo.orders.*}), a singleton job.
 *
 * <ul>
 *   <li>Every instance, at start-up, creates this and next month's tables on every shard if they do not
 *       exist ({@code CREATE TABLE IF NOT EXISTS}, safe from several instances at once): an instance
 *       must not take sends before its month's table exists. If a shard does not answer, it tries again
 *       every {@code retry} until that has worked once.</li>
 *   <li>The instance that leads the singleton jobs ({@link JobLeadership}) does it again every
 *       {@code table-check} (so next month's tables exist a month ahead) and retires the tables older
 *       than {@code keep-months}: renamed to {@code <archive-prefix><table>}, or dropped when the
 *       prefix is empty. Only the leader retires: two instances renaming the same tables would race.</li>
 * </ul>
 */
@Component
public class MonthTableJob implements SmartLifecycle {

  private static final Logger LOG = LoggerFactory.getLogger(MonthTableJob.class);

  private final ShardedJdbc jdbc;
  private final ShardRouter router;
  private final JobLeadership leadership;
  private final String ddl;
  private final Duration check;
  private final Duration retry;
  private final int keepMonths;
  private final String archivePrefix;
  private final Clock clock;
  private final AtomicLong leaderRuns = new AtomicLong();
  private final AtomicLong retired = new AtomicLong();
  private volatile boolean ensuredOnce;
  private volatile long lastLeaderRun;
  private volatile Periodic schedule;

  @Autowired
  public MonthTableJob(ShardedJdbc jdbc, ShardRouter router, JobLeadership leadership,
      @Value("${giftkit.demo.orders.ddl}") String ddl,
      @Value("${giftkit.demo.orders.table-check:1h}") Duration check,
      @Value("${giftkit.demo.orders.retry:5s}") Duration retry,
      @Value("${giftkit.demo.orders.keep-months:13}") int keepMonths,
      @Value("${giftkit.demo.orders.archive-prefix:archived_}") String archivePrefix) {
    this(jdbc, router, leadership, ddl, check, retry, keepMonths, archivePrefix, Clock.systemUTC());
  }

  MonthTableJob(ShardedJdbc jdbc, ShardRouter router, JobLeadership leadership, String ddl, Duration check,
      Duration retry, int keepMonths, String archivePrefix, Clock clock) {
    if (keepMonths < 2) {
      throw new IllegalArgumentException("giftkit.demo.orders.keep-months must be at least 2, but was " + keepMonths);
    }
    if (check.isNegative() || check.isZero() || retry.isNegative() || retry.isZero()) {
      throw new IllegalArgumentException("giftkit.demo.orders.table-check and retry must be positive, but were "
          + check + " and " + retry);
    }
    this.jdbc = jdbc;
    this.router = router;
    this.leadership = leadership;
    this.ddl = ddl;
    this.check = check;
    this.retry = retry;
    this.keepMonths = keepMonths;
    this.archivePrefix = archivePrefix == null || archivePrefix.isBlank() ? null : archivePrefix;
    this.clock = clock;
    ensureNow(); // before the web server takes sends
  }

  private void ensureNow() {
    YearMonth month = router.monthOf(clock.instant());
    try {
      jdbc.ensureTables(ddl, month, month.plusMonths(1));
      ensuredOnce = true;
    } catch (RuntimeException e) {
      LOG.error("GiftKit demo: creating the month tables of {} and {} failed ({}); trying again every {}", month,
          month.plusMonths(1), e.getMessage(), retry);
    }
  }

  /**
   * One round of the job: ensures the tables until that has worked once; the leader, every
   * {@code table-check}, ensures them again and retires old ones.
   */
  void runOnce() {
    if (!ensuredOnce) {
      ensureNow();
    }
    long now = clock.millis();
    if (!leadership.isLeader() || now - lastLeaderRun < check.toMillis()) {
      return;
    }
    lastLeaderRun = now;
    leaderRuns.incrementAndGet();
    ensureNow();
    try {
      int n = jdbc.retire(clock.instant(), keepMonths, 12, archivePrefix);
      retired.addAndGet(n);
      if (n > 0) {
        LOG.info("GiftKit demo: retired {} month tables older than {} months ({})", n, keepMonths,
            archivePrefix == null ? "dropped" : "renamed to " + archivePrefix + "<table>");
      }
    } catch (RuntimeException e) {
      LOG.error("GiftKit demo: retiring old month tables failed ({}); next try in {}", e.getMessage(), check);
    }
  }

  /** @return rounds this instance ran as the leader */
  public long leaderRuns() {
    return leaderRuns.get();
  }

  /** @return what the endpoint shows */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ensured", ensuredOnce);
    m.put("leaderRuns", leaderRuns.get());
    m.put("retired", retired.get());
    m.put("keepMonths", keepMonths);
    m.put("tableCheck", check.toString());
    return m;
  }

  @Override
  public void start() {
    schedule = Periodic.every("giftkit-demo-month-tables", Duration.ZERO,
        retry.compareTo(check) < 0 ? retry : check, this::runOnce);
  }

  @Override
  public void stop() {
    Periodic p = schedule;
    schedule = null;
    if (p != null) {
      p.close();
    }
  }

  @Override
  public boolean isRunning() {
    return schedule != null;
  }
}
