package io.giftkit.demo.panel;

import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The gift catalogue, preloaded into memory at start-up (the reference platform preloads all gift
 * data when a user enters a room, so the panel never waits for it).
 */
@Component
public class GiftCatalog {

  private final List<Gift> gifts = List.of(
      new Gift(1, "rose", 1), new Gift(2, "heart", 10), new Gift(3, "rocket", 500),
      new Gift(4, "blind box", 99), new Gift(5, "treasure chest", 1_000));

  /**
   * @param roomId the room
   * @return the gifts on its panel
   */
  public List<Gift> forRoom(long roomId) {
    return gifts;
  }

  /**
   * @param giftId a gift's id
   * @return the gift, if the catalogue has it
   */
  public java.util.Optional<Gift> find(long giftId) {
    return gifts.stream().filter(g -> g.id() == giftId).findFirst();
  }
}
