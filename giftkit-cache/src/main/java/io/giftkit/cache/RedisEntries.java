package io.giftkit.cache;

import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How a {@link TieredCache} stores an entry in Redis: a one-byte header, then the value's bytes
 * ({@link #PRESENT}), nothing ({@link #ABSENT}: the loader said absent), or a token that is unique
 * to one invalidation ({@link #TOMBSTONE}: read as a miss). A load writes its value only if the key
 * still holds what the load saw before it called the loader: with {@code SET NX} if that was nothing,
 * else with {@link #CAS_SCRIPT} (the same tombstone), so an invalidation that came in between is
 * never undone. Thread-safe.
 */
final class RedisEntries {

  static final byte ABSENT = 0;
  static final byte PRESENT = 1;
  static final byte TOMBSTONE = 2;

  /**
   * KEYS[1] the key; ARGV[1] the value it must hold; ARGV[2] the new value; ARGV[3] its TTL in ms.
   * Returns 1 if written.
   */
  static final String CAS_SCRIPT = """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return 0
      end
      redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
      return 1
      """;

  static final ScriptOutputType CAS_OUTPUT = ScriptOutputType.INTEGER;

  private final byte[] instancePrefix = new byte[8];
  private final AtomicLong tokens = new AtomicLong();

  RedisEntries() {
    new SecureRandom().nextBytes(instancePrefix);
  }

  /** @return a tombstone no other invalidation (of any instance) writes: 8 random bytes + a counter */
  byte[] newTombstone() {
    long n = tokens.incrementAndGet();
    byte[] b = new byte[17];
    b[0] = TOMBSTONE;
    System.arraycopy(instancePrefix, 0, b, 1, 8);
    for (int i = 0; i < 8; i++) {
      b[9 + i] = (byte) (n >>> (56 - 8 * i));
    }
    return b;
  }

  static boolean isTombstone(byte[] bytes) {
    return bytes != null && bytes.length >= 1 && bytes[0] == TOMBSTONE;
  }

  static byte[] present(byte[] body) {
    byte[] bytes = new byte[body.length + 1];
    bytes[0] = PRESENT;
    System.arraycopy(body, 0, bytes, 1, body.length);
    return bytes;
  }

  static byte[] absent() {
    return new byte[] {ABSENT};
  }

  static byte[] millis(long ttlMillis) {
    return Long.toString(ttlMillis).getBytes(StandardCharsets.US_ASCII);
  }
}
