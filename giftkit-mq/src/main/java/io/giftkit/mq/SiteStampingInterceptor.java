package io.giftkit.mq;

import io.giftkit.core.InvalidConfigException;
import io.giftkit.core.Site;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigException;

/**
 * A producer interceptor that stamps every record with the origin site ({@value SiteHeaders#SITE}),
 * so no send path can forget it. Records that already carry a site header (e.g. set with
 * {@link SiteHeaders#stamp} together with a routing tag) keep it.
 *
 * <pre>{@code
 * props.put(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, SiteStampingInterceptor.class.getName());
 * props.put(SiteStampingInterceptor.SITE_CONFIG, "a");           // or the GIFTKIT_SITE environment variable
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class SiteStampingInterceptor implements ProducerInterceptor<Object, Object> {

  /** The producer property naming the local site; when absent, {@code GIFTKIT_SITE} is used. */
  public static final String SITE_CONFIG = "giftkit.site";

  private volatile Site site;

  @Override
  public void configure(Map<String, ?> configs) {
    Object configured = configs.get(SITE_CONFIG);
    try {
      site = Site.resolve(configured == null ? null : String.valueOf(configured));
    } catch (InvalidConfigException e) {
      throw new ConfigException(SITE_CONFIG, configured, e.getMessage());
    }
  }

  @Override
  public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
    if (record.headers().lastHeader(SiteHeaders.SITE) == null) {
      SiteHeaders.stamp(record.headers(), site, null);
    }
    return record;
  }

  @Override
  public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

  @Override
  public void close() {}
}
