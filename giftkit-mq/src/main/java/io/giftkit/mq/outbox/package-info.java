/**
 * The transactional outbox: {@link io.giftkit.mq.outbox.Outbox} writes an event as a row in the
 * caller's database transaction, {@link io.giftkit.mq.outbox.OutboxRelay} publishes the committed rows
 * to Kafka and deletes them once the broker acknowledged them.
 */
package io.giftkit.mq.outbox;
