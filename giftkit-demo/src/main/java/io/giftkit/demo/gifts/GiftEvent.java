package io.giftkit.demo.gifts;

/**
 * A paid gift, published to Kafka for settlement (JSON; the key is the order id).
 *
 * @param orderId the order (the settlement's idempotency key)
 * @param uid the sender
 * @param roomId the room
 * @param streamerUid the room's streamer, who earns the amount
 * @param giftId the gift
 * @param count how many
 * @param amount the price, in coins
 * @param createdAt when the order was created (epoch ms)
 */
public record GiftEvent(long orderId, long uid, long roomId, long streamerUid, long giftId, int count, long amount,
    long createdAt) {}
