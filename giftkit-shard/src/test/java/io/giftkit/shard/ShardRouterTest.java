package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class ShardRouterTest {

  private final ShardRouter utc = ShardRouter.builder("gift_order").build();
  private final ShardRouter shanghai = ShardRouter.builder("gift_order").zone("Asia/Shanghai").build();

  @Test
  void shardIsUidModTenAndTableIsTheMonth() {
    Instant at = Instant.parse("2026-11-24T08:00:00Z");
    for (long uid = 0; uid < 1_000; uid++) {
      Route r = utc.route(uid, at);
      assertThat(r.shard()).isEqualTo((int) (uid % 10));
      assertThat(r.table()).isEqualTo("gift_order_202611");
      assertThat(r.month()).isEqualTo(202611);
    }
    assertThat(utc.route(Long.MAX_VALUE, at).shard()).isEqualTo((int) (Long.MAX_VALUE % 10));
  }

  @Test
  void monthBoundariesDependOnTheZone() {
    // 2026-11-30T16:30Z is still November in UTC but already December 1st in Shanghai (UTC+8).
    Instant lateNovemberUtc = Instant.parse("2026-11-30T16:30:00Z");
    assertThat(utc.route(7, lateNovemberUtc).table()).isEqualTo("gift_order_202611");
    assertThat(shanghai.route(7, lateNovemberUtc).table()).isEqualTo("gift_order_202612");
    // The last millisecond of a month and the first of the next, in each zone.
    for (ShardRouter router : new ShardRouter[] {utc, shanghai}) {
      ZoneId zone = router.zone();
      Instant firstOfDecember = LocalDateTime.of(2026, 12, 1, 0, 0).atZone(zone).toInstant();
      assertThat(router.route(1, firstOfDecember.minusMillis(1)).table()).isEqualTo("gift_order_202611");
      assertThat(router.route(1, firstOfDecember).table()).isEqualTo("gift_order_202612");
      Instant newYear = LocalDateTime.of(2027, 1, 1, 0, 0).atZone(zone).toInstant();
      assertThat(router.route(1, newYear.minusMillis(1)).table()).isEqualTo("gift_order_202612");
      assertThat(router.route(1, newYear).table()).isEqualTo("gift_order_202701");
    }
  }

  @Test
  void leapYearFebruaryEndsOnThe29th() {
    Instant feb29 = LocalDateTime.of(2028, 2, 29, 23, 59, 59).toInstant(ZoneOffset.UTC);
    assertThat(utc.route(3, feb29).table()).isEqualTo("gift_order_202802");
    assertThat(utc.route(3, feb29.plusSeconds(1)).table()).isEqualTo("gift_order_202803");
    Instant feb28NonLeap = LocalDateTime.of(2027, 2, 28, 23, 59, 59).toInstant(ZoneOffset.UTC);
    assertThat(utc.route(3, feb28NonLeap.plusSeconds(1)).table()).isEqualTo("gift_order_202703");
  }

  @Test
  void patternsAndHelpers() {
    ShardRouter router = ShardRouter.builder("gift_order").shards(4).tableNamePattern("t_{yyyy}_{MM}_{table}").build();
    assertThat(router.route(6, Instant.parse("2026-03-05T00:00:00Z")))
        .isEqualTo(new Route(2, "t_2026_03_gift_order", 202603));
    assertThat(router.table(YearMonth.of(2026, 12))).isEqualTo("t_2026_12_gift_order");
    assertThat(router.shardOf(7)).isEqualTo(3);
    assertThat(shanghai.monthOf(Instant.parse("2026-11-30T16:30:00Z"))).isEqualTo(YearMonth.of(2026, 12));
  }

  @Test
  void badInputIsRejectedNamingTheSettingAndValue() {
    assertThatThrownBy(() -> utc.route(-1, Instant.now())).hasMessage("uid must be >= 0, but was -1");
    assertThatThrownBy(() -> utc.route(1, Instant.parse("1969-12-31T23:59:59Z")))
        .hasMessage("at must be a time in years 1970 to 9999, but was 1969-12-31T23:59:59Z");
    assertThatThrownBy(() -> utc.route(1, Instant.MAX)).hasMessageStartingWith("at must be a time in years 1970 to 9999");
    assertThatThrownBy(() -> ShardRouter.builder("gift-order"))
        .hasMessage("logicalTable must be 1 to 64 characters of A-Z, a-z, 0-9 or '_', but was \"gift-order\"");
    assertThatThrownBy(() -> ShardRouter.builder("t").tableNamePattern("{table};drop_{yyyyMM}"))
        .hasMessageStartingWith("tableNamePattern must contain {yyyyMM}");
    assertThatThrownBy(() -> ShardRouter.builder("t").tableNamePattern("{table}_x"))
        .hasMessageStartingWith("tableNamePattern must contain {yyyyMM}");
    assertThatThrownBy(() -> ShardRouter.builder("t").zone("Mars/Olympus"))
        .hasMessage("zone must be a zone id such as UTC or Asia/Shanghai, but was \"Mars/Olympus\"");
    assertThatThrownBy(() -> ShardRouter.builder("t").shards(0)).hasMessage("shards must be in [1, 1024], but was 0");
  }

  @Test
  void routingWithinAMonthAllocatesNothing() {
    long at = Instant.parse("2026-11-24T08:00:00Z").toEpochMilli();
    for (int i = 0; i < 200_000; i++) {
      utc.route(i, at + i);
    }
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 200_000; i++) {
      utc.route(i, at + i);
    }
    assertThat((mx.getCurrentThreadAllocatedBytes() - before) / 200_000).isZero();
  }
}
