package io.giftkit.cache;

import io.giftkit.core.Checks;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

/**
 * JSON values through a Jackson 3 {@link JsonMapper}: {@link ValueCodec#json(Class)} with GiftKit's
 * default mapper, or {@link #of(JsonMapper, Class)} with the application's (Spring Boot's, which the
 * starter's {@code GiftkitCodecs} passes).
 *
 * <pre>{@code
 * ValueCodec<Room> rooms = JacksonValueCodec.of(applicationMapper, Room.class);
 * }</pre>
 *
 * <p>The mapper's settings apply as they are, plus one rule: a value is one JSON document, so tokens
 * after it fail ({@code FAIL_ON_TRAILING_TOKENS}) whatever the mapper says. Failures are
 * {@link IllegalArgumentException}s naming the type, the line and column, the property path and
 * Jackson's reason, with Jackson's exception as the cause; a {@link TieredCache} counts a decode
 * failure and treats the entry as a miss.
 *
 * <p>Jackson is an optional dependency of giftkit-cache: only this class refers to it, so
 * {@link ValueCodec}, the caches and the other codecs load and work without it ({@code ArchitectureTest}
 * and {@code WithoutJacksonTest} hold this). Thread-safe: the reader and writer are immutable and
 * made once per codec. Never blocks.
 *
 * @param <V> the value type
 */
public final class JacksonValueCodec<V> implements ValueCodec<V> {

  private static final int MAX_PATH_STEPS = 8;

  private final Class<V> type;
  private final ObjectReader reader;
  private final ObjectWriter writer;

  private JacksonValueCodec(JsonMapper mapper, Class<V> type) {
    this.type = type;
    this.reader = mapper.readerFor(type).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    this.writer = mapper.writer(); // the value's runtime class, as a subclass of type has more to write
  }

  /**
   * A codec on the given mapper, e.g. Spring Boot's (configured by {@code spring.jackson.*}). The
   * mapper's settings apply as they are (naming, modules, coercion, unknown properties); the codec
   * adds only that a value is one JSON document, so tokens after it fail.
   *
   * @param <V> the value type
   * @param mapper the mapper
   * @param type the value class
   * @return the codec (thread-safe); its {@code encode} and {@code decode} throw
   *     {@link IllegalArgumentException} naming the type, the position, the property and the reason
   */
  public static <V> JacksonValueCodec<V> of(JsonMapper mapper, Class<V> type) {
    Checks.requireNonNull("mapper", mapper);
    Checks.requireNonNull("type", type);
    return new JacksonValueCodec<>(mapper, type);
  }

  /**
   * GiftKit's default mapper, {@link ValueCodec#json(Class)}'s: Jackson 3's defaults (records by
   * component name, {@code java.time} values as ISO-8601 text, unknown properties ignored,
   * {@code null} or nothing for a primitive refused), made strict where Jackson is lenient: no
   * coercion between scalars ({@code "1"} is not a number, {@code 1} is not a string, {@code 1.5}
   * is not a {@code long}), enums by {@code name()} and never by index, a member name at most once
   * per object.
   *
   * @return the shared default mapper
   */
  static JsonMapper defaultMapper() {
    return DefaultMapper.INSTANCE;
  }

  @Override
  public byte[] encode(V value) {
    try {
      return writer.writeValueAsBytes(value);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(describe("cannot be written as JSON", e), e);
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public V decode(byte[] bytes) {
    Checks.requireNonNull("bytes", bytes);
    try {
      return (V) reader.readValue(bytes);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(describe("JSON rejected", e), e);
    }
  }

  private String describe(String what, JacksonException e) {
    StringBuilder sb = new StringBuilder(type.getSimpleName()).append(' ').append(what);
    TokenStreamLocation at = e.getLocation();
    if (at != null && at.getLineNr() > 0) {
      sb.append(" at line ").append(at.getLineNr()).append(", column ").append(at.getColumnNr());
    }
    List<JacksonException.Reference> path = e.getPath();
    if (!path.isEmpty()) {
      sb.append(" (").append(path(path)).append(')');
    }
    return sb.append(": ").append(e.getOriginalMessage()).toString();
  }

  /**
   * {@code $.host.name}, {@code $.tags[2]}: the JSONPath of the value Jackson stopped at; a deep one
   * keeps its first and last steps.
   */
  private static String path(List<JacksonException.Reference> refs) {
    if (refs.size() > MAX_PATH_STEPS) {
      return path(refs.subList(0, MAX_PATH_STEPS / 2)) + "…(" + (refs.size() - MAX_PATH_STEPS) + " more)"
          + path(refs.subList(refs.size() - MAX_PATH_STEPS / 2, refs.size())).substring(1);
    }
    StringBuilder sb = new StringBuilder("$");
    for (JacksonException.Reference r : refs) {
      if (r.getPropertyName() != null) {
        sb.append('.').append(r.getPropertyName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      } else {
        sb.append(".?");
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "JacksonValueCodec[" + type.getName() + "]";
  }

  /** Made on first use, so a codec with the application's mapper never builds this one. */
  private static final class DefaultMapper {
    static final JsonMapper INSTANCE = JsonMapper.builder()
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(EnumFeature.READ_ENUMS_USING_TO_STRING, EnumFeature.WRITE_ENUMS_USING_TO_STRING)
        .enable(EnumFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }
}
