package io.giftkit.cache;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns cache values into the bytes stored in Redis and back. A codec that throws while decoding
 * makes the entry a miss (it is loaded again and replaced in Redis), never an error for the caller.
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
   * JSON, with no JSON library: records (by component name, nested), {@code Map<String, ?>},
   * {@code List<?>}, arrays, strings, numbers, booleans, enums, {@link java.time.Instant}s and null.
   * Decoding is strict and fails (the entry becomes a miss) on malformed text, a wrong type or a
   * number that does not fit; unknown object members are ignored. For richer mappings pass a JSON
   * library's functions to {@link #of}.
   *
   * <pre>{@code
   * record Room(long id, String title, List<String> tags, Instant openedAt) {}
   * ValueCodec<Room> rooms = ValueCodec.json(Room.class);
   * }</pre>
   *
   * @param <V> the value type
   * @param type the value class; {@code Object.class} for untyped maps and lists
   * @return the codec
   */
  static <V> ValueCodec<V> json(Class<V> type) {
    return new JsonCodec<>(type);
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
