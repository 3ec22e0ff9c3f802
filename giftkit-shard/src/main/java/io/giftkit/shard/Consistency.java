package io.giftkit.shard;

/** How fresh a read must be; passed explicitly with every read (no thread-local hints). */
public enum Consistency {
  /** Read your writes, payments: the shard's primary. */
  STRONG,
  /** May lag slightly (~ms): a healthy replica of the local site, else another replica, else the primary. */
  WEAK
}
