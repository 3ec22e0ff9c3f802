package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.boot.GiftkitAutoConfiguration;
import io.giftkit.boot.cache.GiftkitCacheAutoConfiguration;
import io.giftkit.boot.cache.GiftkitCodecs;
import io.giftkit.cache.ValueCodec;
import io.giftkit.demo.gifts.GiftEvent;
import io.giftkit.demo.gifts.GiftEventFormat;
import io.giftkit.demo.rooms.RoomInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.core.ResolvableType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Gift events (outbox rows, the gift topic) and room values (Redis) are written and read by Boot's
 * JsonMapper, and what GiftKit's earlier hand-written codec wrote reads the same: JSON objects with
 * the records' component names.
 */
class WireFormatTest {

  /** A gift event exactly as the earlier codec wrote it (component order, no spaces). */
  static final String EARLIER_EVENT = "{\"orderId\":4611686018427387905,\"uid\":1001,\"roomId\":3,\"streamerUid\":37,"
      + "\"giftId\":2,\"count\":3,\"amount\":30,\"createdAt\":1764547200000}";
  static final GiftEvent EVENT = new GiftEvent(4_611_686_018_427_387_905L, 1001, 3, 37, 2, 3, 30, 1_764_547_200_000L);

  /** A room value exactly as the earlier codec wrote it into Redis (after the cache's header byte). */
  static final String EARLIER_ROOM = "{\"roomId\":3,\"title\":\"Room 3\",\"streamerUid\":37,"
      + "\"topSenders\":[{\"uid\":1001,\"total\":30},{\"uid\":1002,\"total\":10}],\"loadedAt\":1764547200000}";
  static final RoomInfo ROOM = new RoomInfo(3, "Room 3", 37,
      List.of(new RoomInfo.Sender(1001, 30), new RoomInfo.Sender(1002, 10)), 1_764_547_200_000L);

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, GiftkitAutoConfiguration.class,
          GiftkitCacheAutoConfiguration.class))
      .withUserConfiguration(GiftEventFormat.class);

  @SuppressWarnings("unchecked")
  static ValueCodec<GiftEvent> events(ApplicationContext context) {
    return (ValueCodec<GiftEvent>) context.getBeanProvider(
        ResolvableType.forClassWithGenerics(ValueCodec.class, GiftEvent.class)).getObject();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void giftEventsWrittenByTheEarlierCodecDecodeAndNewOnesHaveTheSameFields() {
    runner.run(context -> {
      assertThat(context.getBean(GiftkitCodecs.class).usesApplicationMapper()).as("Boot's JsonMapper").isTrue();
      ValueCodec<GiftEvent> events = events(context);
      assertThat(events.decode(utf8(EARLIER_EVENT))).isEqualTo(EVENT);
      byte[] now = events.encode(EVENT);
      JsonMapper mapper = context.getBean(JsonMapper.class);
      assertThat(mapper.readTree(now)).as("same names, same values").isEqualTo(mapper.readTree(EARLIER_EVENT));
      assertThat(new String(now, StandardCharsets.UTF_8)).as("even the same text").isEqualTo(EARLIER_EVENT);
      assertThat(events.decode(now)).isEqualTo(EVENT);
    });
  }

  @Test
  void roomValuesWrittenByTheEarlierCodecDecode() {
    runner.run(context -> {
      ValueCodec<RoomInfo> rooms = context.getBean(GiftkitCodecs.class).json(RoomInfo.class);
      assertThat(rooms.decode(utf8(EARLIER_ROOM))).isEqualTo(ROOM);
      JsonMapper mapper = context.getBean(JsonMapper.class);
      assertThat(mapper.readTree(rooms.encode(ROOM))).isEqualTo(mapper.readTree(EARLIER_ROOM));
      assertThat(new String(rooms.encode(ROOM), StandardCharsets.UTF_8)).isEqualTo(EARLIER_ROOM);
    });
  }

  /** What the scenario and the end-to-end test inject as poison: settlement must fail to decode it. */
  @Test
  void poisonEventsFailToDecode() {
    runner.run(context -> {
      ValueCodec<GiftEvent> events = events(context);
      for (String poison : List.of("{\"orderId\": \"not a number 0\"", "{not a gift event",
          EARLIER_EVENT + " trailing")) {
        assertThatThrownBy(() -> events.decode(utf8(poison))).as(poison)
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("GiftEvent JSON rejected at line 1");
      }
    });
  }
}
