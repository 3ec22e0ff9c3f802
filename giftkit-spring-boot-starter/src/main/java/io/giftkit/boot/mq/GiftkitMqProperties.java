package io.giftkit.boot.mq;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/** {@code giftkit.mq.*}: managed Kafka consumers. */
@ConfigurationProperties("giftkit.mq")
public class GiftkitMqProperties {

  /** Which records a consumer handles by origin site. */
  public enum SiteFilterMode {
    /** Every record. */
    ALL,
    /** Only records of the local site ({@code giftkit.site}); other sites' are committed and counted, not handled. */
    LOCAL_ONLY
  }

  /** Kafka bootstrap servers; default: spring.kafka.bootstrap-servers (then spring.kafka.consumer.bootstrap-servers). */
  private List<String> bootstrapServers = new ArrayList<>();

  /** Site filter of every consumer; LOCAL_ONLY needs giftkit.site. */
  private SiteFilterMode siteFilter = SiteFilterMode.ALL;

  /** With LOCAL_ONLY: whether records without a site header count as local. */
  private boolean untaggedIsLocal = true;

  /** The dead-letter topic of topic t is t + this suffix. */
  private String deadLetterSuffix = ".DLT";

  /** The JDBC idempotency table (the JdbcIdempotencyStore bean). */
  private String idempotencyTable = "giftkit_idempotency";

  /** Settings every consumer starts from. */
  @NestedConfigurationProperty
  private ConsumerSettings defaults = new ConsumerSettings();

  /** Per-consumer settings, by consumer name. */
  private Map<String, ConsumerSettings> consumers = new LinkedHashMap<>();

  public List<String> getBootstrapServers() {
    return bootstrapServers;
  }

  public void setBootstrapServers(List<String> bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
  }

  public SiteFilterMode getSiteFilter() {
    return siteFilter;
  }

  public void setSiteFilter(SiteFilterMode siteFilter) {
    this.siteFilter = siteFilter;
  }

  public boolean isUntaggedIsLocal() {
    return untaggedIsLocal;
  }

  public void setUntaggedIsLocal(boolean untaggedIsLocal) {
    this.untaggedIsLocal = untaggedIsLocal;
  }

  public String getDeadLetterSuffix() {
    return deadLetterSuffix;
  }

  public void setDeadLetterSuffix(String deadLetterSuffix) {
    this.deadLetterSuffix = deadLetterSuffix;
  }

  public String getIdempotencyTable() {
    return idempotencyTable;
  }

  public void setIdempotencyTable(String idempotencyTable) {
    this.idempotencyTable = idempotencyTable;
  }

  public ConsumerSettings getDefaults() {
    return defaults;
  }

  public void setDefaults(ConsumerSettings defaults) {
    this.defaults = defaults;
  }

  public Map<String, ConsumerSettings> getConsumers() {
    return consumers;
  }

  public void setConsumers(Map<String, ConsumerSettings> consumers) {
    this.consumers = consumers;
  }
}
