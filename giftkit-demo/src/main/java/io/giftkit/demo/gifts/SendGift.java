package io.giftkit.demo.gifts;

import io.giftkit.core.Checks;

/**
 * {@code POST /api/gifts}: a user sends a gift in a room.
 *
 * @param uid the sender; not negative
 * @param roomId the room; positive
 * @param giftId a gift of the catalogue
 * @param count 1 to 9,999
 * @param clientRequestId the client's id for this send, 1 to 64 characters: a retried POST with the
 *     same id returns the same order and never creates a second one
 */
public record SendGift(Long uid, Long roomId, Long giftId, Integer count, String clientRequestId) {

  /** Rejects bad input naming the field, the rule and the value. */
  public void validate() {
    Checks.requireNonNull("uid", uid);
    Checks.requireNonNegative("uid", uid);
    Checks.requireNonNull("roomId", roomId);
    Checks.requirePositive("roomId", roomId);
    Checks.requireNonNull("giftId", giftId);
    Checks.requireNonNull("count", count);
    Checks.requireInRange("count", count, 1, 9_999);
    Checks.requireNonBlank("clientRequestId", clientRequestId);
    if (clientRequestId.length() > 64) {
      throw Checks.invalid("clientRequestId", "must be at most 64 characters", clientRequestId.length() + " characters");
    }
  }
}
