/**
 * Idempotent Kafka consumption, retries and dead-letter topics, site-tag filtering, lag alerts and durable delayed re-checks.
 */
package io.giftkit.mq;
