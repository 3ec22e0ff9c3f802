package io.giftkit.demo.panel;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.stereotype.Component;

/** The simulated gift-configuration service the catalogue is loaded from. */
@Component
public class CatalogSource {

  private final AtomicReference<List<Gift>> gifts = new AtomicReference<>(List.of(
      new Gift(1, "rose", 1), new Gift(2, "heart", 10), new Gift(3, "rocket", 500),
      new Gift(4, "blind box", 99), new Gift(5, "treasure chest", 1_000)));

  /** @return the gifts configured now */
  public List<Gift> load() {
    return gifts.get();
  }

  /**
   * Changes the configured gifts (operators adding a gift; tests).
   *
   * @param next the new catalogue
   */
  public void replace(List<Gift> next) {
    gifts.set(List.copyOf(next));
  }
}
