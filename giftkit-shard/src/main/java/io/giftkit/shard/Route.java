package io.giftkit.shard;

/**
 * Where a row lives: the shard (a database) and the physical table inside it. Routes are cached and
 * shared; comparing them by identity is fine but {@link #equals} compares values.
 *
 * @param shard the shard index, in [0, shards)
 * @param table the physical table name, e.g. {@code gift_order_202611}; only {@code [A-Za-z0-9_]}
 * @param month the month as {@code yyyyMM}, e.g. {@code 202611}
 */
public record Route(int shard, String table, int month) {}
