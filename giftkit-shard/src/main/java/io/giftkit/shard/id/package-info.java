/**
 * Unique 63-bit ids backed by a worker-lease table: {@link io.giftkit.shard.id.IdGenerator}. Depends
 * on {@code giftkit-core} and JDBC only; the table may live in any MariaDB 10.6+, MySQL 8 or H2 2.x
 * ({@code MODE=MySQL}) database.
 */
package io.giftkit.shard.id;
