package io.giftkit.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisExtensionTest {

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  @Test
  void talksToARealServerUnderItsOwnPrefix() {
    assertThat(REDIS.keyPrefix()).matches("gk-test:[0-9a-f]{8}:");
    RedisCommands<String, String> redis = REDIS.commands();
    redis.set(REDIS.key("room:42"), "hot");
    assertThat(redis.get(REDIS.key("room:42"))).isEqualTo("hot");
    assertThat(redis.incr(REDIS.key("counter"))).isEqualTo(1);
    assertThat(redis.info("server")).contains("redis_version");
  }

  @Test
  void cleanUpDeletesEveryKeyUnderThePrefixAndNothingElse() {
    RedisExtension other = new RedisExtension();
    other.start();
    try {
      RedisCommands<String, String> redis = other.commands();
      for (int i = 0; i < 1_234; i++) {
        redis.set(other.key("k" + i), "v");
      }
      redis.set(REDIS.key("survivor"), "stays");

      assertThat(other.cleanUp()).isEqualTo(1_234);
      assertThat(redis.keys(other.keyPrefix() + "*")).isEmpty();
      assertThat(redis.get(REDIS.key("survivor"))).isEqualTo("stays");
    } finally {
      other.close();
    }
  }

  @Test
  void closeCleansUp() {
    RedisExtension other = new RedisExtension();
    other.start();
    other.commands().set(other.key("a"), "1");
    other.close();
    assertThat(REDIS.commands().exists(other.key("a"))).isZero();
    assertThatThrownBy(other::commands).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void unreachableServerFailsNamingServiceAddressAndRemedy() {
    RedisExtension closed = new RedisExtension("redis://127.0.0.1:1");
    assertThatThrownBy(closed::start)
        .isInstanceOf(ServiceUnavailableError.class)
        .hasMessageStartingWith("Redis is not reachable at redis://127.0.0.1:1")
        .hasMessageContaining("Run scripts/test")
        .hasMessageContaining("GIFTKIT_REDIS_URL");
  }
}
