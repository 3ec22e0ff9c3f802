/**
 * {@code uid % N} and monthly table routing over per-shard HikariCP pools, consistency-aware reads, failover and table lifecycle.
 */
package io.giftkit.shard;
