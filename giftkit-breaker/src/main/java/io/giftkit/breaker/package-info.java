/**
 * Latency budget with cached fallback, failure-rate breaker, rate limiting and adaptive throttling.
 */
package io.giftkit.breaker;
