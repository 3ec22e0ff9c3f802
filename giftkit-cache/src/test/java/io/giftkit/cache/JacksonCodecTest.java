package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/** {@link ValueCodec#json}: Jackson 3 with GiftKit's default mapper or the application's. */
class JacksonCodecTest {

  enum Kind { NORMAL, HOT }

  record Streamer(long uid, String name) {}

  record Room(long id, String title, Kind kind, List<String> tags, Map<String, Integer> gifts, Streamer host,
      Instant openedAt, double ratio, boolean live, int[] ranks, Streamer coHost) {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static Room room() {
    Map<String, Integer> gifts = new LinkedHashMap<>();
    gifts.put("rose", 3);
    gifts.put("rocket", 1);
    return new Room(42, "Night \"show\"\n\u0001 ✨ 直播 \uD83C\uDF81", Kind.HOT, List.of("music", "live"), gifts,
        new Streamer(7, "ann"), Instant.parse("2026-11-26T03:00:00Z"), 0.25, true, new int[] {3, 1}, null);
  }

  @Test
  void recordsRoundTripWithNestedRecordsListsMapsEnumsInstantsUnicodeAndNulls() {
    ValueCodec<Room> codec = ValueCodec.json(Room.class);
    Room room = room();
    byte[] bytes = codec.encode(room);
    Room back = codec.decode(bytes);
    assertThat(back).usingRecursiveComparison().isEqualTo(room);
    assertThat(back.title()).isEqualTo(room.title());
    assertThat(back.coHost()).isNull();
    assertThat(back.gifts()).containsExactly(Map.entry("rose", 3), Map.entry("rocket", 1));
    assertThat(back.gifts().get("rose")).isInstanceOf(Integer.class);
    assertThat(text(bytes)).contains("\"openedAt\":\"2026-11-26T03:00:00Z\"", "\"kind\":\"HOT\"", "\"coHost\":null",
        "\"host\":{\"uid\":7,\"name\":\"ann\"}", "\"tags\":[\"music\",\"live\"]", "\\u0001", "✨ 直播 \uD83C\uDF81");
    assertThat(text(bytes)).isEqualTo(EXPECTED_ROOM_TEXT);
  }

  /** What Jackson writes for {@link #room()} (kept so a change of the wire format shows). */
  private static final String EXPECTED_ROOM_TEXT = "TODO";

  /** Exactly what GiftKit's earlier codec (no library) wrote for {@link #room()}: it reads the same. */
  @Test
  void theEarlierCodecsTextReadsTheSame() {
    String earlier = "{\"id\":42,\"title\":\"Night \\\"show\\\"\\n\\u0001 ✨ 直播 \uD83C\uDF81\",\"kind\":\"HOT\","
        + "\"tags\":[\"music\",\"live\"],\"gifts\":{\"rose\":3,\"rocket\":1},\"host\":{\"uid\":7,\"name\":\"ann\"},"
        + "\"openedAt\":\"2026-11-26T03:00:00Z\",\"ratio\":0.25,\"live\":true,\"ranks\":[3,1],\"coHost\":null}";
    assertThat(ValueCodec.json(Room.class).decode(utf8(earlier))).usingRecursiveComparison().isEqualTo(room());
  }

  @Test
  void listsMapsAndUntypedValues() {
    @SuppressWarnings("unchecked")
    ValueCodec<List<Object>> list = (ValueCodec<List<Object>>) (ValueCodec<?>) ValueCodec.json(List.class);
    List<Object> values = new ArrayList<>(Arrays.asList(1, "x", null, true, List.of(2), Map.of("k", "v")));
    assertThat(text(list.encode(values))).isEqualTo("[1,\"x\",null,true,[2],{\"k\":\"v\"}]");
    assertThat(list.decode(list.encode(values))).isEqualTo(values);

    Object tree = ValueCodec.json(Object.class).decode(utf8("{\"big\":123456789012345678901234567890,\"n\":-7,\"f\":2.5}"));
    assertThat(tree).isEqualTo(Map.of("big", new BigInteger("123456789012345678901234567890"), "n", -7, "f", 2.5));
  }

  @Test
  void unknownPropertiesAreIgnoredSoANewerWriterCanAddFields() {
    assertThat(ValueCodec.json(Streamer.class).decode(utf8("{\"uid\":1,\"name\":\"a\",\"extra\":{\"x\":[1]}}")))
        .isEqualTo(new Streamer(1, "a"));
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> rejects(String json) {
    return assertThatThrownBy(() -> ValueCodec.json(Streamer.class).decode(utf8(json)))
        .isInstanceOf(IllegalArgumentException.class).hasCauseInstanceOf(JacksonException.class);
  }

  /** Escapes with a sign or non-ASCII hex digits, and numbers of non-ASCII digits, are not JSON. */
  @Test
  void theInputTheEarlierCodecWronglyAcceptedIsRejected() {
    rejects("{\"uid\":1,\"name\":\"\\u+041\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column TODO");
    rejects("{\"uid\":1,\"name\":\"\\u٠٠٤١\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column TODO");
    rejects("{\"uid\":١٢,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column TODO");
    rejects("{\"uid\":１,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column TODO");
  }

  @Test
  void malformedOrMismatchedJsonFailsNamingTheTypeThePositionThePropertyAndTheReason() {
    rejects("{\"uid\":1,\"name\":\"a\"} x").hasMessageStartingWith("Streamer JSON rejected at line 1, column TODO");
    rejects("{\"uid\":1,\"name\":\"a\"}{\"uid\":2}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":01,\"name\":\"a\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":\"1\",\"name\":\"a\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":1.5,\"name\":\"a\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":null,\"name\":\"a\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":NaN,\"name\":\"a\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":1,\"name\":\"a\\q\"}").hasMessageStartingWith("TODO");
    rejects("{\"uid\":1,\"name\":\"a").hasMessageStartingWith("TODO");
    rejects("").hasMessageStartingWith("TODO");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"kind\":\"COLD\"}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("TODO");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"host\":{\"uid\":\"x\"}}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("TODO");
    assertThatThrownBy(() -> ValueCodec.json(Object.class).decode(utf8("[".repeat(2_000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("TODO");
  }

  @Test
  void aValueThatCannotBeWrittenFailsNamingTheType() {
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    assertThatThrownBy(() -> ValueCodec.json(Object.class).encode(cycle))
        .isInstanceOf(IllegalArgumentException.class).hasCauseInstanceOf(JacksonException.class)
        .hasMessageStartingWith("TODO");
  }

  /** The application's mapper is used as it is configured, plus one rule: one JSON document per value. */
  @Test
  void theApplicationsMapperIsUsedAsConfiguredButTrailingTokensAlwaysFail() {
    JsonMapper snake = JsonMapper.builder().propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    record GiftSent(long orderId, long streamerUid) {}
    ValueCodec<GiftSent> codec = ValueCodec.json(snake, GiftSent.class);
    assertThat(text(codec.encode(new GiftSent(1, 17)))).isEqualTo("{\"order_id\":1,\"streamer_uid\":17}");
    assertThat(codec.decode(utf8("{\"order_id\":1,\"streamer_uid\":17}"))).isEqualTo(new GiftSent(1, 17));
    assertThat(snake.readValue("{\"order_id\":1,\"streamer_uid\":17} x", GiftSent.class))
        .as("the mapper alone accepts trailing tokens").isEqualTo(new GiftSent(1, 17));
    assertThatThrownBy(() -> codec.decode(utf8("{\"order_id\":1,\"streamer_uid\":17} x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("TODO");
  }

  @Test
  void argumentsAreChecked() {
    assertThatThrownBy(() -> ValueCodec.json(null)).hasMessageContaining("type");
    assertThatThrownBy(() -> ValueCodec.json(null, Streamer.class)).hasMessageContaining("mapper");
    assertThatThrownBy(() -> ValueCodec.json(JsonMapper.shared(), null)).hasMessageContaining("type");
    assertThat(ValueCodec.json(Streamer.class)).hasToString("ValueCodec.json(" + Streamer.class.getName() + ")");
  }
}
