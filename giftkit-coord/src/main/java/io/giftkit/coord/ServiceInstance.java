package io.giftkit.coord;

import io.giftkit.core.Checks;
import io.giftkit.core.Site;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One instance of a service, as {@link ServiceRegistry} registers it and {@link ServiceResolver} finds it.
 *
 * @param service the service's name: 1 to 64 characters of letters, digits, {@code '.'}, {@code '_'}
 *     or {@code '-'}, starting with a letter or digit
 * @param site the site (data centre) the instance runs in
 * @param instanceId unique within the service and site: 1 to 128 characters of letters, digits,
 *     {@code '.'}, {@code '_'}, {@code ':'} or {@code '-'}, starting with a letter or digit (a host:port does)
 * @param address where to reach it, e.g. {@code 10.0.0.7:8080}; any non-blank text
 * @param metadata free key-value pairs (version, weight, zone …); keys not blank, values not null
 */
public record ServiceInstance(String service, Site site, String instanceId, String address,
    Map<String, String> metadata) {

  private static final Pattern SERVICE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  /**
   * Checks the components and copies the metadata (unmodifiable).
   *
   * @param service the service's name
   * @param site the site; not null
   * @param instanceId the instance's id
   * @param address where to reach it; not blank
   * @param metadata free key-value pairs; not null
   * @throws io.giftkit.core.InvalidConfigException naming the bad component and its value
   */
  public ServiceInstance {
    Checks.requireMatches("service", service, SERVICE,
        "1 to 64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
    Checks.requireNonNull("site", site);
    Checks.requireMatches("instanceId", instanceId, INSTANCE_ID,
        "1 to 128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
    Checks.requireNonBlank("address", address);
    Checks.requireNonNull("metadata", metadata);
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      Checks.requireNonBlank("metadata key", e.getKey());
      Checks.requireNonNull("metadata[" + e.getKey() + "]", e.getValue());
    }
    metadata = Map.copyOf(metadata);
  }

  /**
   * An instance with a site given by name.
   *
   * @param service the service's name
   * @param site the site's name (see {@link Site#of})
   * @param instanceId the instance's id
   * @param address where to reach it
   * @param metadata free key-value pairs
   * @return the instance
   * @throws io.giftkit.core.InvalidConfigException naming the bad component and its value
   */
  public static ServiceInstance of(String service, String site, String instanceId, String address,
      Map<String, String> metadata) {
    return new ServiceInstance(service, Site.of(site), instanceId, address, metadata);
  }
}
