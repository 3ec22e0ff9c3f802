/**
 * GiftKit's test harness, used by every module's tests (test scope; never published): real MariaDB
 * ({@link io.giftkit.testing.MariaDbExtension}), real Redis ({@link io.giftkit.testing.RedisExtension}),
 * a real KRaft Kafka broker started inside the test JVM ({@link io.giftkit.testing.KafkaBroker}), and
 * the module rules every module checks ({@link io.giftkit.testing.GiftkitArchitecture}).
 *
 * <p>A service that cannot be reached fails the test with a {@link
 * io.giftkit.testing.ServiceUnavailableError} naming the service, the address tried and how to start
 * it; nothing is ever skipped.
 */
package io.giftkit.testing;
