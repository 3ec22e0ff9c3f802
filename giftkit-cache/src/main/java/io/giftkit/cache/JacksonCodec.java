package io.giftkit.cache;

import io.giftkit.core.Checks;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link ValueCodec#json(Class)} and {@link ValueCodec#json(JsonMapper, Class)}: JSON through a
 * Jackson 3 {@link JsonMapper}. The mapper's settings apply as they are, plus one rule: a value is
 * one JSON document, so tokens after it fail ({@code FAIL_ON_TRAILING_TOKENS}) whatever the mapper
 * says.
 *
 * <p>Failures are {@link IllegalArgumentException}s naming the type, the line and column, the property
 * path and Jackson's reason, with Jackson's exception as the cause; a {@link TieredCache} counts a
 * decode failure and treats the entry as a miss.
 *
 * <p>Only this class and {@link ValueCodec} refer to Jackson (Jackson is an optional dependency of
 * giftkit-cache; {@code ArchitectureTest} holds this). Thread-safe: the reader and writer are
 * immutable and made once per codec. Never blocks.
 *
 * @param <V> the value type
 */
final class JacksonCodec<V> implements ValueCodec<V> {

  private final Class<V> type;
  private final ObjectReader reader;
  private final ObjectWriter writer;

  JacksonCodec(JsonMapper mapper, Class<V> type) {
    Checks.requireNonNull("mapper", mapper);
    this.type = Checks.requireNonNull("type", type);
    this.reader = mapper.readerFor(type).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    this.writer = mapper.writerFor(type);
  }

  /**
   * GiftKit's default mapper: Jackson 3's defaults (records by component name, {@code java.time}
   * values as ISO-8601 text, unknown properties ignored, {@code null} for a primitive refused),
   * made strict where Jackson is lenient: no coercion between scalars ({@code "1"} is not a
   * number, {@code 1} is not a string or a boolean) and no floating-point number for an integer
   * ({@code 1.5} is not a {@code long}).
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

  /** {@code $.host.name}, {@code $.tags[2]}: the JSONPath of the value Jackson stopped at. */
  private static String path(List<JacksonException.Reference> refs) {
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
    return "ValueCodec.json(" + type.getName() + ")";
  }

  /** Made on first use, so a codec with the application's mapper never builds this one. */
  private static final class DefaultMapper {
    static final JsonMapper INSTANCE = JsonMapper.builder()
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
  }
}
