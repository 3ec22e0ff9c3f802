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

/** {@link ValueCodec#json} and {@link JacksonValueCodec}: Jackson 3 with GiftKit's default mapper or the application's. */
class JacksonValueCodecTest {

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

  /**
   * Exactly what GiftKit's earlier hand-written codec wrote for {@link #room()}: the default mapper
   * writes the same text (record components in declaration order) and reads it back.
   */
  private static final String EXPECTED_ROOM_TEXT = "{\"id\":42,\"title\":\"Night \\\"show\\\"\\n\\u0001 ✨ 直播 \uD83C\uDF81\","
      + "\"kind\":\"HOT\",\"tags\":[\"music\",\"live\"],\"gifts\":{\"rose\":3,\"rocket\":1},\"host\":{\"uid\":7,\"name\":\"ann\"},"
      + "\"openedAt\":\"2026-11-26T03:00:00Z\",\"ratio\":0.25,\"live\":true,\"ranks\":[3,1],\"coHost\":null}";

  @Test
  void theEarlierCodecsTextReadsTheSame() {
    assertThat(ValueCodec.json(Room.class).decode(utf8(EXPECTED_ROOM_TEXT))).usingRecursiveComparison().isEqualTo(room());
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
    rejects("{\"uid\":1,\"name\":\"\\u+041\"}").hasMessage("Streamer JSON rejected at line 1, column 20 ($.name):"
        + " Unexpected character ('+' (code 43)): expected a hex-digit for character escape sequence");
    rejects("{\"uid\":1,\"name\":\"\\u٠٠٤١\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 20 ($.name):"
        + " Unexpected character").hasMessageEndingWith("expected a hex-digit for character escape sequence");
    rejects("{\"uid\":١٢,\"name\":\"a\"}").hasMessage("Streamer JSON rejected at line 1, column 10: Invalid UTF-8 start byte 0xa1");
    rejects("{\"uid\":１,\"name\":\"a\"}").hasMessage("Streamer JSON rejected at line 1, column 10: Invalid UTF-8 start byte 0xbc");
  }

  @Test
  void malformedJsonFailsNamingTheTypeAndThePosition() {
    rejects("{\"uid\":1,\"name\":\"a\"} x").hasMessage("Streamer JSON rejected at line 1, column 22: Unrecognized token"
        + " 'x': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
    rejects("{\"uid\":1,\"name\":\"a\"}{\"uid\":2}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 21:"
        + " Trailing token (`JsonToken.START_OBJECT`) found after value");
    rejects("{\"uid\":01,\"name\":\"a\"}").hasMessage("Streamer JSON rejected at line 1, column 9: Invalid numeric value:"
        + " Leading zeroes not allowed");
    rejects("{\"uid\":NaN,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 11:"
        + " Non-standard token 'NaN'");
    rejects("{\"uid\":1,\"name\":\"a\\q\"}").hasMessage("Streamer JSON rejected at line 1, column 20 ($.name):"
        + " Unrecognized character escape 'q' (code 113)");
    rejects("{\"uid\":1,\"name\":\"a").hasMessage("Streamer JSON rejected at line 1, column 19 ($.name):"
        + " Unexpected end-of-input in VALUE_STRING");
    rejects("{\"uid\":1,\"name\":\"a\",\"uid\":2}").hasMessageStartingWith("Streamer JSON rejected at line 1, column")
        .hasMessageContaining("Duplicate Object property \"uid\"");
    rejects("").hasMessage("Streamer JSON rejected at line 1, column 0: No content to map due to end-of-input");
    assertThatThrownBy(() -> ValueCodec.json(Object.class).decode(utf8("[".repeat(2_000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Object JSON rejected: Document nesting depth (501)"
            + " exceeds the maximum allowed (500, from `StreamReadConstraints.getMaxNestingDepth()`)");
  }

  @Test
  void aValueOfTheWrongKindFailsNamingTheProperty() {
    rejects("{\"uid\":\"1\",\"name\":\"a\"}").hasMessage("Streamer JSON rejected at line 1, column 8 ($.uid):"
        + " Cannot coerce String value (\"1\") to `long` value (but might if coercion using `CoercionConfig` was enabled)");
    rejects("{\"uid\":1.5,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 8 ($.uid):"
        + " Cannot coerce Floating-point value (1.5) to `long` value");
    rejects("{\"uid\":true,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 8 ($.uid):"
        + " Cannot deserialize value of type `long` from Boolean value");
    rejects("{\"uid\":99999999999999999999,\"name\":\"a\"}").hasMessageStartingWith("Streamer JSON rejected at line 1,"
        + " column 28 ($.uid): Numeric value (99999999999999999999) out of range of `long`");
    rejects("{\"uid\":1,\"name\":5}").hasMessageStartingWith("Streamer JSON rejected at line 1, column 17 ($.name):");
    rejects("{\"uid\":null,\"name\":\"a\"}").hasMessage("Streamer JSON rejected at line 1, column 8 ($.uid): Cannot map"
        + " `null` into type `long` (set `DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES` to 'false' to allow)");
    rejects("{\"name\":\"a\"}").as("a missing primitive").hasMessageStartingWith("Streamer JSON rejected at line 1,"
        + " column 12 ($.uid): Cannot map `null` into type `long`");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"kind\":\"COLD\"}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Room JSON rejected at line 1, column 16"
            + " ($.kind): Cannot deserialize value of type `io.giftkit.cache.JacksonValueCodecTest$Kind` from String"
            + " \"COLD\": not one of the values accepted for Enum class: [HOT, NORMAL]");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"kind\":1}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Room JSON rejected at line 1, column 16"
            + " ($.kind): Cannot deserialize value of type `io.giftkit.cache.JacksonValueCodecTest$Kind` from number 1:"
            + " not allowed to deserialize Enum value out of number");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"host\":{\"uid\":\"x\"}}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Room JSON rejected at line 1, column 23"
            + " ($.host.uid): Cannot coerce String value (\"x\") to `long` value");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(utf8("{\"id\":1,\"tags\":[\"a\",2]}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Room JSON rejected at line 1, column 21"
            + " ($.tags[1]):");
  }

  @Test
  void aValueThatCannotBeWrittenFailsNamingTheType() {
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    assertThatThrownBy(() -> ValueCodec.json(Object.class).encode(cycle))
        .isInstanceOf(IllegalArgumentException.class).hasCauseInstanceOf(JacksonException.class)
        .hasMessage("Object cannot be written as JSON ($[0][0][0][0]…(492 more)[0][0][0][0]): Document nesting depth"
            + " (501) exceeds the maximum allowed (500, from `StreamWriteConstraints.getMaxNestingDepth()`)");
  }

  /** The application's mapper is used as it is configured, plus one rule: one JSON document per value. */
  @Test
  void theApplicationsMapperIsUsedAsConfiguredButTrailingTokensAlwaysFail() {
    JsonMapper snake = JsonMapper.builder().propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    record GiftSent(long orderId, long streamerUid) {}
    ValueCodec<GiftSent> codec = JacksonValueCodec.of(snake, GiftSent.class);
    assertThat(text(codec.encode(new GiftSent(1, 17)))).isEqualTo("{\"order_id\":1,\"streamer_uid\":17}");
    assertThat(codec.decode(utf8("{\"order_id\":1,\"streamer_uid\":17}"))).isEqualTo(new GiftSent(1, 17));
    assertThat(snake.readValue("{\"order_id\":1,\"streamer_uid\":17} x", GiftSent.class))
        .as("the mapper alone accepts trailing tokens").isEqualTo(new GiftSent(1, 17));
    assertThatThrownBy(() -> codec.decode(utf8("{\"order_id\":1,\"streamer_uid\":17} x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("GiftSent JSON rejected at line 1, column 34:"
            + " Unrecognized token 'x': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
    assertThat(codec.decode(utf8("{\"order_id\":\"1\",\"streamer_uid\":17}"))).as("its coercion rules, not GiftKit's")
        .isEqualTo(new GiftSent(1, 17));
  }

  record Listing(long id, String title, List<String> tags, Instant openedAt) {}

  /** The README's example, compiled. */
  @Test
  void theReadmeExample() {
    JsonMapper applicationMapper = JsonMapper.builder().build();
    // README begin
    ValueCodec<Listing> rooms = ValueCodec.json(Listing.class);                   // GiftKit's strict default mapper
    ValueCodec<Listing> same = JacksonValueCodec.of(applicationMapper, Listing.class); // your configured JsonMapper
    ValueCodec<String> text = ValueCodec.utf8();
    ValueCodec<byte[]> raw = ValueCodec.bytes();
    ValueCodec<Listing> own = ValueCodec.of(room -> rooms.encode(room), bytes -> rooms.decode(bytes)); // any two functions
    // README end
    Listing room = new Listing(42, "Night show", List.of("music"), Instant.parse("2026-11-26T03:00:00Z"));
    assertThat(text(rooms.encode(room)))
        .isEqualTo("{\"id\":42,\"title\":\"Night show\",\"tags\":[\"music\"],\"openedAt\":\"2026-11-26T03:00:00Z\"}");
    assertThat(same.decode(rooms.encode(room))).isEqualTo(room);
    assertThat(own.decode(own.encode(room))).isEqualTo(room);
    assertThat(text.decode(text.encode("直播"))).isEqualTo("直播");
    assertThat(raw.encode(new byte[] {1, 2})).containsExactly(1, 2);
  }

  @Test
  void argumentsAreChecked() {
    assertThatThrownBy(() -> ValueCodec.json(null)).hasMessageContaining("type");
    assertThatThrownBy(() -> JacksonValueCodec.of(null, Streamer.class)).hasMessageContaining("mapper");
    assertThatThrownBy(() -> JacksonValueCodec.of(JsonMapper.shared(), null)).hasMessageContaining("type");
    assertThat(ValueCodec.json(Streamer.class)).hasToString("JacksonValueCodec[" + Streamer.class.getName() + "]");
  }
}
