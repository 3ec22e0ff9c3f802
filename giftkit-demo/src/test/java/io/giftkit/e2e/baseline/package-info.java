/**
 * The bare baseline of the end-to-end benchmark (issue #15): the gift system's send, panel and room
 * paths written directly, without GiftKit, behind the same HTTP stack (Spring MVC on Tomcat, Jackson)
 * and on the same services (ten MariaDB shard databases, the control and payment databases, Redis, a
 * Kafka broker). Each send does the demo's work the plain way: one transaction writing the request-id
 * row, the order in its month table and its re-check row; the charge in the payment database; one
 * transaction marking the order PAID with its event in the shard's outbox and the re-check deleted.
 * A relay thread publishes the outboxes with a plain idempotent {@code KafkaProducer} (acks=all) and a
 * plain consumer loop applies each poll's events to the ledger once, by the ledger's unique order id.
 * Lives in the demo's test tree (a package of its own, outside the demo's component scan) so that it
 * never ships with the demo.
 */
package io.giftkit.e2e.baseline;
