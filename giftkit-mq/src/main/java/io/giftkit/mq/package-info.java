/**
 * Idempotent Kafka consumption, retries and dead-letter topics, site-tag filtering, lag alerts and durable delayed re-checks. Filled in by the mq issue.
 */
package io.giftkit.mq;
