package io.giftkit.cache;

import io.giftkit.core.Checks;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns cache values into the bytes stored in Redis (or a Kafka record, an outbox row) and back. A
 * codec that throws while decoding makes a {@link TieredCache} entry a miss (counted as a decode
 * failure, loaded again and replaced in Redis), never an error for the caller. The JSON codecs throw
 * {@link IllegalArgumentException} for bytes they cannot decode; every codec made here is
 * thread-safe and never blocks.
 *
 * @param <V> the value type
 */
public interface ValueCodec<V> {

  /**
   * Encodes a value.
   *
   * @param value the value, not null
   * @return its bytes
   */
  byte[] encode(V value);

  /**
   * Decodes bytes written by {@link #encode}.
   *
   * @param bytes the bytes
   * @return the value
   * @throws IllegalArgumentException (the JSON codecs) if the bytes are not a valid encoding
   */
  V decode(byte[] bytes);

  /** @return UTF-8 strings */
  static ValueCodec<String> utf8() {
    return of(s -> s.getBytes(StandardCharsets.UTF_8), b -> new String(b, StandardCharsets.UTF_8));
  }

  /** @return raw bytes, stored as they are */
  static ValueCodec<byte[]> bytes() {
    return of(b -> b, b -> b);
  }

  /**
   * JSON through Jackson 3 with GiftKit's default {@code JsonMapper}: records by component name
   * (nested), collections, maps, enums by name, {@code java.time} values as ISO-8601 text and null.
   * Decoding is strict: malformed JSON, tokens after the value, a value of the wrong kind (no
   * coercion: {@code "1"} is not a number, {@code 1} is not a string, {@code 1.5} is not a
   * {@code long}), a primitive that is {@code null} or missing and a repeated member name fail;
   * unknown properties are ignored, so a newer writer may add fields. To use the application's
   * configured mapper (Spring Boot's), call {@link JacksonValueCodec#of}.
   *
   * <p>Jackson ({@code tools.jackson.core:jackson-databind}) is an optional dependency of
   * giftkit-cache: add it to use this method. This interface's signatures name no Jackson type, so
   * it loads (and reflection on it works) without Jackson.
   *
   * <pre>{@code
   * record Room(long id, String title, List<String> tags, Instant openedAt) {}
   * ValueCodec<Room> rooms = ValueCodec.json(Room.class);
   * }</pre>
   *
   * @param <V> the value type
   * @param type the value class
   * @return the codec (thread-safe); its {@code encode} and {@code decode} throw
   *     {@link IllegalArgumentException} naming the type, the position, the property and the reason
   * @throws IllegalStateException if Jackson 3 is not on the class path, naming the dependency to add
   */
  static <V> ValueCodec<V> json(Class<V> type) {
    Checks.requireNonNull("type", type);
    requireJackson();
    return JacksonValueCodec.of(JacksonValueCodec.defaultMapper(), type);
  }

  /** Fails with the dependency to add when Jackson 3 is missing, before any class refers to it. */
  private static void requireJackson() {
    try {
      Class.forName("tools.jackson.databind.json.JsonMapper", false, ValueCodec.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException("ValueCodec.json needs Jackson 3 on the class path, but "
          + "tools.jackson.databind.json.JsonMapper was not found: add the dependency "
          + "tools.jackson.core:jackson-databind (3.1 or later; giftkit-cache declares it optional, and Jackson 2's "
          + "com.fasterxml.jackson.core:jackson-databind does not do), or use ValueCodec.of(encode, decode)", e);
    }
  }

  /**
   * A codec from two functions (e.g. a JSON mapper's write and read).
   *
   * @param <V> the value type
   * @param encode value to bytes
   * @param decode bytes to value
   * @return the codec
   */
  static <V> ValueCodec<V> of(Function<? super V, byte[]> encode, Function<byte[], ? extends V> decode) {
    Objects.requireNonNull(encode, "encode");
    Objects.requireNonNull(decode, "decode");
    return new ValueCodec<>() {
      @Override
      public byte[] encode(V value) {
        return encode.apply(value);
      }

      @Override
      public V decode(byte[] bytes) {
        return decode.apply(bytes);
      }
    };
  }
}
