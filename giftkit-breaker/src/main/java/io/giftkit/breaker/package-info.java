/**
 * Latency budget with cached fallback, failure-rate breaker, rate limiting and adaptive throttling. Filled in by the breaker issue.
 */
package io.giftkit.breaker;
