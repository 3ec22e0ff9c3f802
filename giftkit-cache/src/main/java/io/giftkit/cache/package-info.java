/**
 * Single-flight, hot-key detection and a tiered Caffeine to Redis to loader cache.
 */
package io.giftkit.cache;
