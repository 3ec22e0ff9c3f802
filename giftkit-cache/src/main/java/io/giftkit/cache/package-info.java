/**
 * Single-flight, hot-key detection and a tiered Caffeine to Redis to loader cache. Filled in by the cache issue.
 */
package io.giftkit.cache;
