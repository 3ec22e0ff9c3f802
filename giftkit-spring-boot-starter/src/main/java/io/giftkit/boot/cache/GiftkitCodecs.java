package io.giftkit.boot.cache;

import io.giftkit.cache.JacksonValueCodec;
import io.giftkit.cache.ValueCodec;
import io.giftkit.core.Checks;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON {@link ValueCodec}s on the application's Jackson 3 {@link JsonMapper}: Spring Boot's, as
 * {@code spring.jackson.*} and {@code JsonMapperBuilderCustomizer} beans configure it. Made by the
 * starter when Jackson 3 is on the class path; without a {@code JsonMapper} bean it uses GiftKit's
 * default mapper ({@link ValueCodec#json(Class)}). With several {@code JsonMapper} beans it takes
 * the primary one; with several and none primary the context fails to start, naming them, as any
 * injection of a {@code JsonMapper} would.
 *
 * <pre>{@code
 * @Bean
 * TieredCache<Long, RoomInfo> rooms(GiftkitCaches caches, GiftkitCodecs codecs, RoomDao dao) {
 *   return caches.create("rooms", b -> b.keys(KeyCodec.longs()).values(codecs.json(RoomInfo.class)).loader(dao::load));
 * }
 * }</pre>
 *
 * <p>The codecs serve anywhere bytes are needed (Kafka serializers, outbox rows), not only caches.
 * Thread-safe; never blocks.
 */
public final class GiftkitCodecs {

  private final JsonMapper mapper;

  private GiftkitCodecs(JsonMapper mapper) {
    this.mapper = mapper;
  }

  /**
   * @param mapper the application's mapper
   * @return codecs on it
   */
  public static GiftkitCodecs of(JsonMapper mapper) {
    return new GiftkitCodecs(Checks.requireNonNull("mapper", mapper));
  }

  /** @return codecs on GiftKit's default mapper (no application mapper exists) */
  public static GiftkitCodecs ofDefaults() {
    return new GiftkitCodecs(null);
  }

  /**
   * @param <V> the value type
   * @param type the value class
   * @return a JSON codec for it on the application's mapper (see {@link JacksonValueCodec#of})
   */
  public <V> ValueCodec<V> json(Class<V> type) {
    return mapper != null ? JacksonValueCodec.of(mapper, type) : ValueCodec.json(type);
  }

  /** @return whether the codecs use the application's mapper (false: GiftKit's default) */
  public boolean usesApplicationMapper() {
    return mapper != null;
  }

  @Override
  public String toString() {
    return "GiftkitCodecs[" + (mapper != null ? "the application's JsonMapper" : "GiftKit's default JsonMapper") + "]";
  }
}
