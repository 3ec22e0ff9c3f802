/**
 * etcd-backed coordination: a lock whose holder gets a fencing token ({@link io.giftkit.coord.EtcdLocks},
 * {@link io.giftkit.coord.EtcdLock}, {@link io.giftkit.coord.FencedWrite}), a strongly consistent
 * key-value tier with a read consistency per call and watches ({@link io.giftkit.coord.ConsistentKv},
 * {@link io.giftkit.coord.KvWatch}), leader election ({@link io.giftkit.coord.EtcdElections}) and
 * site-aware service discovery ({@link io.giftkit.coord.ServiceRegistry},
 * {@link io.giftkit.coord.ServiceResolver}).
 */
package io.giftkit.coord;
