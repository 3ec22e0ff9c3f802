package io.giftkit.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings shared by every GiftKit module. */
@ConfigurationProperties("giftkit")
public class GiftkitProperties {

  /**
   * The local data centre ("site"), e.g. "a" or "sh-2": 1 to 32 characters of a-z, 0-9, '-' or
   * '_'. Falls back to the GIFTKIT_SITE environment variable. Messages carry it as their origin;
   * consumers drop messages of other sites.
   */
  private String site;

  /** The {@code giftkit} Actuator endpoint. */
  private final Endpoint endpoint = new Endpoint();

  public Endpoint getEndpoint() {
    return endpoint;
  }

  /** Settings of the {@code giftkit} Actuator endpoint. */
  public static class Endpoint {

    /**
     * Whether the endpoint offers its operations that change state (force a breaker open or closed,
     * demote a hot key). Off by default: exposing the endpoint does not let whoever reaches it
     * change the application's behaviour. Secure the endpoint before turning this on.
     */
    private boolean writeOperationsEnabled = false;

    public boolean isWriteOperationsEnabled() {
      return writeOperationsEnabled;
    }

    public void setWriteOperationsEnabled(boolean writeOperationsEnabled) {
      this.writeOperationsEnabled = writeOperationsEnabled;
    }
  }

  public String getSite() {
    return site;
  }

  public void setSite(String site) {
    this.site = site;
  }
}
