package io.giftkit.shard;

import io.giftkit.core.Checks;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Routes a row by its user and its time: shard {@code uid % shards}, and inside it the table of the
 * row's month in an explicit zone ({@code gift_order_202611}). No SQL parser: callers write SQL with
 * a {@code {table}} placeholder and GiftKit fills in the validated physical name.
 *
 * <pre>{@code
 * ShardRouter router = ShardRouter.builder("gift_order")
 *     .shards(10)
 *     .zone(ZoneId.of("Asia/Shanghai"))    // month boundaries depend on the zone: never the JVM default
 *     .build();
 * Route r = router.route(uid, order.createdAt());   // Route[shard=3, table=gift_order_202611, month=202611]
 * }</pre>
 *
 * <p>Carry the creation time (or month) with an order id: a re-check at 00:00:01 on the 1st must
 * look in last month's table for an order created last month.
 *
 * <p>Thread-safe. Routing an instant in the same month as the previous call reads one volatile
 * field and allocates nothing; table names are cached per month (a dozen a year).
 */
public final class ShardRouter {

  /** Default number of shards: 10 (the reference platform's {@code uid % 10}). */
  public static final int DEFAULT_SHARDS = 10;
  /** Default table name pattern. */
  public static final String DEFAULT_PATTERN = "{table}_{yyyyMM}";

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_]{1,64}");
  private static final int MIN_YEAR = 1970;
  private static final int MAX_YEAR = 9999;

  private final String logicalTable;
  private final int shards;
  private final ZoneId zone;
  private final String pattern;
  private final ConcurrentHashMap<Integer, MonthRoutes> months = new ConcurrentHashMap<>();
  private volatile MonthRoutes last;

  /** The routes of one month, with the month's bounds in epoch milliseconds. */
  private static final class MonthRoutes {
    final long startMillis;
    final long endMillis;
    final Route[] byShard;

    MonthRoutes(long startMillis, long endMillis, Route[] byShard) {
      this.startMillis = startMillis;
      this.endMillis = endMillis;
      this.byShard = byShard;
    }
  }

  private ShardRouter(Builder b) {
    this.logicalTable = b.logicalTable;
    this.shards = b.shards;
    this.zone = b.zone;
    this.pattern = b.pattern;
    this.last = monthRoutes(YearMonth.now(zone));
  }

  /**
   * Starts a builder.
   *
   * @param logicalTable the logical table, e.g. {@code gift_order}; {@code [A-Za-z0-9_]}, 1 to 64
   * @return a new builder
   */
  public static Builder builder(String logicalTable) {
    return new Builder(Checks.requireMatches("logicalTable", logicalTable, IDENTIFIER,
        "1 to 64 characters of A-Z, a-z, 0-9 or '_'"));
  }

  /**
   * Routes a row.
   *
   * @param uid the user; at least 0
   * @param at the row's time (e.g. the order's creation time); in years 1970 to 9999
   * @return the shard and physical table
   * @throws io.giftkit.core.InvalidConfigException naming {@code uid} or {@code at} if out of range
   */
  public Route route(long uid, Instant at) {
    Checks.requireNonNull("at", at);
    return route(uid, toMillis(at));
  }

  /**
   * Routes a row by epoch milliseconds (no {@link Instant} needed on hot paths).
   *
   * @param uid the user; at least 0
   * @param epochMillis the row's time
   * @return the shard and physical table
   */
  public Route route(long uid, long epochMillis) {
    if (uid < 0) {
      throw Checks.invalid("uid", "must be >= 0", uid);
    }
    int shard = (int) (uid % shards);
    MonthRoutes m = last;
    if (epochMillis >= m.startMillis && epochMillis < m.endMillis) {
      return m.byShard[shard];
    }
    return monthFor(epochMillis).byShard[shard];
  }

  /**
   * Returns the shard of a user.
   *
   * @param uid the user; at least 0
   * @return {@code uid % shards}
   */
  public int shardOf(long uid) {
    if (uid < 0) {
      throw Checks.invalid("uid", "must be >= 0", uid);
    }
    return (int) (uid % shards);
  }

  /**
   * Returns the physical table of a month (for table lifecycle and cross-month queries).
   *
   * @param month the month
   * @return e.g. {@code gift_order_202611}
   */
  public String table(YearMonth month) {
    return monthRoutes(month).byShard[0].table();
  }

  /**
   * Returns the month an instant falls in, in this router's zone.
   *
   * @param at the instant
   * @return its month
   */
  public YearMonth monthOf(Instant at) {
    return YearMonth.from(at.atZone(zone));
  }

  /** @return the number of shards */
  public int shards() {
    return shards;
  }

  /** @return the zone month boundaries are computed in */
  public ZoneId zone() {
    return zone;
  }

  /** @return the logical table */
  public String logicalTable() {
    return logicalTable;
  }

  private MonthRoutes monthFor(long epochMillis) {
    YearMonth month;
    try {
      month = YearMonth.from(Instant.ofEpochMilli(epochMillis).atZone(zone));
    } catch (DateTimeException e) {
      throw Checks.invalid("at", "must be a time in years " + MIN_YEAR + " to " + MAX_YEAR, epochMillis + "ms");
    }
    if (month.getYear() < MIN_YEAR || month.getYear() > MAX_YEAR) {
      throw Checks.invalid("at", "must be a time in years " + MIN_YEAR + " to " + MAX_YEAR,
          Instant.ofEpochMilli(epochMillis));
    }
    MonthRoutes m = monthRoutes(month);
    last = m;
    return m;
  }

  private MonthRoutes monthRoutes(YearMonth month) {
    int key = month.getYear() * 100 + month.getMonthValue();
    return months.computeIfAbsent(key, k -> {
      String table = pattern.replace("{table}", logicalTable)
          .replace("{yyyyMM}", String.format("%04d%02d", month.getYear(), month.getMonthValue()))
          .replace("{yyyy}", String.format("%04d", month.getYear()))
          .replace("{MM}", String.format("%02d", month.getMonthValue()));
      Route[] routes = new Route[shards];
      for (int s = 0; s < shards; s++) {
        routes[s] = new Route(s, table, k);
      }
      long start = month.atDay(1).atStartOfDay(zone).toInstant().toEpochMilli();
      long end = month.plusMonths(1).atDay(1).atStartOfDay(zone).toInstant().toEpochMilli();
      return new MonthRoutes(start, end, routes);
    });
  }

  private static long toMillis(Instant at) {
    try {
      return at.toEpochMilli();
    } catch (ArithmeticException e) {
      throw Checks.invalid("at", "must be a time in years " + MIN_YEAR + " to " + MAX_YEAR, at);
    }
  }

  @Override
  public String toString() {
    return "ShardRouter{table=" + logicalTable + ", shards=" + shards + ", zone=" + zone + ", pattern=" + pattern + "}";
  }

  /** Builds a {@link ShardRouter}. Not thread-safe. */
  public static final class Builder {
    private final String logicalTable;
    private int shards = DEFAULT_SHARDS;
    private ZoneId zone = ZoneOffset.UTC;
    private String pattern = DEFAULT_PATTERN;

    private Builder(String logicalTable) {
      this.logicalTable = logicalTable;
    }

    /**
     * @param shards the number of shards; in [1, 1024]; default 10
     * @return this builder
     */
    public Builder shards(int shards) {
      this.shards = (int) Checks.requireInRange("shards", shards, 1, 1_024);
      return this;
    }

    /**
     * @param zone the zone month boundaries are computed in; default UTC (never the JVM's default)
     * @return this builder
     */
    public Builder zone(ZoneId zone) {
      this.zone = Checks.requireNonNull("zone", zone);
      return this;
    }

    /**
     * @param zoneId a zone id such as {@code Asia/Shanghai}
     * @return this builder
     * @throws io.giftkit.core.InvalidConfigException if it does not parse
     */
    public Builder zone(String zoneId) {
      try {
        return zone(ZoneId.of(Checks.requireNonBlank("zone", zoneId)));
      } catch (DateTimeException e) {
        throw Checks.invalid("zone", "must be a zone id such as UTC or Asia/Shanghai", "\"" + zoneId + "\"");
      }
    }

    /**
     * Sets the physical table name pattern, with {@code {table}} and {@code {yyyyMM}} (or
     * {@code {yyyy}} and {@code {MM}}). Default {@code {table}_{yyyyMM}}.
     *
     * @param pattern the pattern; must produce names of only {@code [A-Za-z0-9_]}
     * @return this builder
     */
    public Builder tableNamePattern(String pattern) {
      Checks.requireNonBlank("tableNamePattern", pattern);
      String sample = pattern.replace("{table}", logicalTable).replace("{yyyyMM}", "202611")
          .replace("{yyyy}", "2026").replace("{MM}", "11");
      if (!IDENTIFIER.matcher(sample).matches() || !(pattern.contains("{yyyyMM}")
          || (pattern.contains("{yyyy}") && pattern.contains("{MM}")))) {
        throw Checks.invalid("tableNamePattern",
            "must contain {yyyyMM} (or {yyyy} and {MM}) and produce 1 to 64 characters of A-Z, a-z, 0-9 or '_'",
            "\"" + pattern + "\"");
      }
      this.pattern = pattern;
      return this;
    }

    /** @return the router */
    public ShardRouter build() {
      return new ShardRouter(this);
    }
  }
}
