/**
 * Real server processes for fault tests: each started as its own OS process on free loopback ports,
 * with its data and log under a directory the test owns, killable with {@code SIGKILL}, stoppable
 * with {@code SIGSTOP}/{@code SIGCONT}, restartable on the same data, and always destroyed at the end
 * ({@link io.giftkit.testing.process.ProcessRegistry}).
 *
 * <ul>
 *   <li>{@link io.giftkit.testing.process.ManagedProcess}: one command, its log file, kill/stop/resume/restart.
 *   <li>{@link io.giftkit.testing.process.KafkaProcess}: a KRaft combined-mode broker run as
 *       {@code java kafka.Kafka server.properties} from Apache Kafka's Maven artifacts.
 *   <li>{@link io.giftkit.testing.process.MariaDbProcess}: {@code mariadbd} with its own datadir.
 *   <li>{@link io.giftkit.testing.process.RedisProcess}: {@code redis-server}, no persistence.
 *   <li>{@link io.giftkit.testing.process.EtcdCluster}: one or three {@code etcd} members on loopback.
 * </ul>
 */
package io.giftkit.testing.process;
