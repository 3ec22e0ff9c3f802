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

  public String getSite() {
    return site;
  }

  public void setSite(String site) {
    this.site = site;
  }
}
