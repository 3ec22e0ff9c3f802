/**
 * etcd-backed coordination: a lock whose holder gets a fencing token ({@link io.giftkit.coord.EtcdLocks},
 * {@link io.giftkit.coord.EtcdLock}, {@link io.giftkit.coord.FencedWrite}) and a strongly consistent
 * key-value tier with a read consistency per call ({@link io.giftkit.coord.ConsistentKv}).
 */
package io.giftkit.coord;
