package io.giftkit.demo.cluster;

import io.giftkit.core.Site;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * This running instance of the demo: its site and an id for elections and the simulated payment
 * instances it hosts ({@code giftkit.demo.instance-id}; default {@code <site>-<pid>-<4 hex digits>},
 * unique also for several application contexts in one JVM).
 */
@Component
public class DemoInstance {

  private final String id;
  private final Site site;

  public DemoInstance(Site site, @Value("${giftkit.demo.instance-id:}") String id) {
    this.site = site;
    this.id = id == null || id.isBlank()
        ? site.name() + "-" + ProcessHandle.current().pid() + "-"
            + Integer.toHexString(0x1000 + ThreadLocalRandom.current().nextInt(0xF000))
        : id;
  }

  /** @return the instance's id */
  public String id() {
    return id;
  }

  /** @return the site it runs in */
  public Site site() {
    return site;
  }
}
