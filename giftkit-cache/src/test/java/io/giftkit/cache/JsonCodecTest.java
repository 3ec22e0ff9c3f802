package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonCodecTest {

  enum Kind { NORMAL, HOT }

  record Streamer(long uid, String name) {}

  record Room(long id, String title, Kind kind, List<String> tags, Map<String, Integer> gifts, Streamer host,
      Instant openedAt, double ratio, boolean live, int[] ranks, Streamer coHost) {}

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void recordsRoundTripWithNestedRecordsCollectionsEnumsAndInstants() {
    ValueCodec<Room> codec = ValueCodec.json(Room.class);
    Map<String, Integer> gifts = new LinkedHashMap<>();
    gifts.put("rose", 3);
    gifts.put("rocket", 1);
    Room room = new Room(42, "Night \"show\"\n\u0001 ✨", Kind.HOT, List.of("music", "live"), gifts,
        new Streamer(7, "ann"), Instant.parse("2026-11-26T03:00:00Z"), 0.25, true, new int[] {3, 1}, null);
    byte[] bytes = codec.encode(room);
    assertThat(text(bytes)).isEqualTo("{\"id\":42,\"title\":\"Night \\\"show\\\"\\n\\u0001 ✨\",\"kind\":\"HOT\","
        + "\"tags\":[\"music\",\"live\"],\"gifts\":{\"rose\":3,\"rocket\":1},\"host\":{\"uid\":7,\"name\":\"ann\"},"
        + "\"openedAt\":\"2026-11-26T03:00:00Z\",\"ratio\":0.25,\"live\":true,\"ranks\":[3,1],\"coHost\":null}");
    Room back = codec.decode(bytes);
    assertThat(back).usingRecursiveComparison().isEqualTo(room);
    assertThat(back.gifts().get("rose")).isInstanceOf(Integer.class);
  }

  @Test
  void untypedValuesKeepEveryDigit() {
    ValueCodec<Object> codec = ValueCodec.json(Object.class);
    Object tree = codec.decode("{\"a\":[1,-2.50,1e3,true,null,\"x\"],\"big\":123456789012345678901234567890}"
        .getBytes(StandardCharsets.UTF_8));
    assertThat(tree).isEqualTo(Map.of("a", java.util.Arrays.asList(1L, new BigDecimal("-2.50"), new BigDecimal("1e3"),
        true, null, "x"), "big", new BigInteger("123456789012345678901234567890")));
    assertThat(text(codec.encode(tree))).isEqualTo("{\"a\":[1,-2.50,1000,true,null,\"x\"],\"big\":123456789012345678901234567890}");
  }

  @Test
  void unknownMembersAreIgnoredSoANewerWriterCanAddFields() {
    Streamer s = ValueCodec.json(Streamer.class).decode("{\"uid\":1,\"name\":\"a\",\"extra\":{\"x\":[1]}}"
        .getBytes(StandardCharsets.UTF_8));
    assertThat(s).isEqualTo(new Streamer(1, "a"));
  }

  @Test
  void malformedOrMismatchedJsonFailsNamingWhereAndWhat() {
    ValueCodec<Streamer> codec = ValueCodec.json(Streamer.class);
    assertThatThrownBy(() -> codec.decode("{\"uid\":1,\"name\":\"a\"} x".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: trailing characters at position 21");
    assertThatThrownBy(() -> codec.decode("{\"uid\":01}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: leading zero at position 8");
    assertThatThrownBy(() -> codec.decode("{\"uid\":\"1\",\"name\":\"a\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: $.uid must be a number, but was a string");
    assertThatThrownBy(() -> codec.decode("{\"name\":\"a\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: $.uid is null or missing, but long needs a value");
    assertThatThrownBy(() -> codec.decode("{\"uid\":1.5,\"name\":\"a\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: $.uid = 1.5 does not fit a Long");
    assertThatThrownBy(() -> codec.decode("{\"uid\":1,\"name\":\"a\\q\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageStartingWith("JSON: unknown escape \\q");
    assertThatThrownBy(() -> ValueCodec.json(Room.class).decode(
        "{\"id\":1,\"kind\":\"COLD\",\"ratio\":0,\"live\":false}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("JSON: $.kind is not a Kind: COLD");
    assertThatThrownBy(() -> ValueCodec.json(Object.class).encode(Map.of("x", new Object())))
        .hasMessageStartingWith("JSON: cannot write a java.lang.Object");
    assertThatThrownBy(() -> ValueCodec.json(Object.class).encode(List.of(Double.NaN)))
        .hasMessage("JSON has no NaN");
    assertThatThrownBy(() -> ValueCodec.json(Object.class).decode("[[[[".repeat(100).getBytes(StandardCharsets.UTF_8)))
        .hasMessageStartingWith("JSON: nested deeper than 256 levels");
  }
}
