package io.giftkit.demo.panel;

import io.giftkit.demo.faults.FaultInjector;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The simulated "privileged gift" interface: per-user gifts from a less stable service. Its
 * latency and failures come from the {@link FaultInjector}.
 */
@Component
public class PrivilegedGiftService {

  private final FaultInjector faults;

  public PrivilegedGiftService(FaultInjector faults) {
    this.faults = faults;
  }

  /**
   * @param uid the user
   * @return the user's privileged gifts
   */
  public List<Gift> fetch(long uid) {
    faults.apply("privileged-gifts");
    return List.of(new Gift(1_000 + uid % 7, "privilege-" + uid % 7, 0));
  }
}
