package io.giftkit.mq;

import io.giftkit.core.Site;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The headers GiftKit puts on records: the origin site (and an optional routing tag), plus the
 * dead-letter headers. Values are UTF-8 bytes. For MirrorMaker 2 to carry them unchanged, set its
 * {@code header.converter} to {@code org.apache.kafka.connect.converters.ByteArrayConverter}
 * (otherwise MM2 may re-encode them, KAFKA-10428).
 */
public final class SiteHeaders {

  /** The origin site of a record. */
  public static final String SITE = "giftkit-site";
  /** An optional routing tag (e.g. the room id). */
  public static final String ROUTE = "giftkit-route";

  private SiteHeaders() {}

  /**
   * Stamps the origin site (replacing any earlier value) and, if given, a routing tag.
   *
   * @param headers the record's headers
   * @param site the local site
   * @param routeTag the routing tag, or null
   */
  public static void stamp(Headers headers, Site site, String routeTag) {
    headers.remove(SITE);
    headers.add(SITE, site.name().getBytes(StandardCharsets.UTF_8));
    if (routeTag != null) {
      headers.remove(ROUTE);
      headers.add(ROUTE, routeTag.getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * @param headers a record's headers
   * @param name a header name
   * @return the last value of that header as UTF-8 text, or null
   */
  public static String text(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
