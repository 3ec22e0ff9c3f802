package io.giftkit.cache;

import java.util.Objects;
import java.util.function.Function;

/**
 * Turns cache keys into the text used in Redis keys and invalidation messages, and back.
 *
 * @param <K> the key type
 */
public interface KeyCodec<K> {

  /**
   * @param key the key
   * @return its text; must not contain a newline
   */
  String format(K key);

  /**
   * @param text text written by {@link #format}
   * @return the key
   */
  K parse(String text);

  /** @return strings as they are */
  static KeyCodec<String> strings() {
    return of(s -> s, s -> s);
  }

  /** @return longs in decimal */
  static KeyCodec<Long> longs() {
    return of(String::valueOf, Long::valueOf);
  }

  /**
   * A codec from two functions.
   *
   * @param <K> the key type
   * @param format key to text
   * @param parse text to key
   * @return the codec
   */
  static <K> KeyCodec<K> of(Function<? super K, String> format, Function<String, ? extends K> parse) {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(parse, "parse");
    return new KeyCodec<>() {
      @Override
      public String format(K key) {
        return format.apply(key);
      }

      @Override
      public K parse(String text) {
        return parse.apply(text);
      }
    };
  }
}
