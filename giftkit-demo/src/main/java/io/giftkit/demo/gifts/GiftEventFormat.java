package io.giftkit.demo.gifts;

import io.giftkit.boot.cache.GiftkitCodecs;
import io.giftkit.cache.ValueCodec;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The wire format of gift events, in the shards' outbox rows and on the gift topic: a JSON object
 * with {@link GiftEvent}'s component names ({@code {"orderId":…,"uid":…,"roomId":…,…}}), written
 * and read by Boot's {@code JsonMapper} through {@link GiftkitCodecs}. Events written before (by
 * GiftKit's earlier hand-written JSON codec, same names) read the same; bytes that are not a gift
 * event fail to decode, and settlement dead-letters them.
 */
@Configuration(proxyBeanMethods = false)
public class GiftEventFormat {

  /** The codec {@link OrderStore}, {@link GiftEventPublisher} and {@link Settlement} share. */
  @Bean
  ValueCodec<GiftEvent> giftEventCodec(GiftkitCodecs codecs) {
    return codecs.json(GiftEvent.class);
  }
}
