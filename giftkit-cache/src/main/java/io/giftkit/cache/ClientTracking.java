package io.giftkit.cache;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.push.PushListener;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TieredCache}'s Redis client tracking ({@link InvalidationMode#CLIENT_TRACKING}): turns on
 * {@code CLIENT TRACKING ON BCAST PREFIX <keyPrefix>: NOLOOP} on the cache's command connection and
 * turns the RESP3 {@code invalidate} push messages Redis sends on it into key texts to drop.
 *
 * <p>BCAST, because the default tracking mode remembers only keys this connection read: a key this
 * instance {@code put}, or filled from its loader after a miss, would not be tracked, and the server
 * would keep a table entry per key and reader. With BCAST the server matches every write against
 * the prefix instead (no per-key memory, {@code tracking-table-max-keys} does not apply). NOLOOP,
 * because this instance's own writes go through this connection and already updated its L1
 * ({@code invalidate}, {@code put}) or are its own fills. One exception: Redis (7.0 at least)
 * attributes a Lua script's writes to the script, not to the calling connection, so a load's fill
 * over a tombstone ({@link RedisEntries#CAS_SCRIPT}) comes back and drops this instance's fresh copy
 * once (its next read is an L2 hit); a fill of an empty key is a plain {@code SET NX} and does not. A push message with no key list (Redis
 * sends it on {@code FLUSHALL}/{@code FLUSHDB}) and the reserved key {@link #ALL_KEY} (written when
 * more invalidations were queued than {@code maxPendingInvalidations}) mean "drop all of L1".
 *
 * <p>Redis forgets tracking when the connection closes and Lettuce does not issue
 * {@code CLIENT TRACKING} again on reconnect: {@link RedisLink} calls {@link #enable} again on the
 * new connection and then clears L1. Thread-safe; push messages arrive on Lettuce's I/O thread.
 */
final class ClientTracking implements PushListener {

  /** Key text of a write that tells every instance to drop all of L1; no {@link KeyCodec} makes it (newline). */
  static final String ALL_KEY = "\nall";

  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);

  private final String name;
  private final String prefix;
  private final Consumer<List<String>> onKeys;
  private final Runnable onFlush;

  /**
   * @param name the cache
   * @param keyPrefix the cache's Redis key prefix (tracked as {@code <keyPrefix>:})
   * @param onKeys gets the texts of keys written, deleted, expired or evicted (one message's worth)
   * @param onFlush runs when Redis says everything may have changed
   */
  ClientTracking(String name, String keyPrefix, Consumer<List<String>> onKeys, Runnable onFlush) {
    this.name = name;
    this.prefix = keyPrefix + ":";
    this.onKeys = onKeys;
    this.onFlush = onFlush;
  }

  /**
   * Turns tracking on for {@code connection} (which must speak RESP3), waiting for Redis's answer.
   *
   * @throws IllegalStateException if the connection negotiated RESP2 (no push messages)
   * @throws Exception if Redis refused or did not answer in time
   */
  void enable(StatefulRedisConnection<String, byte[]> connection, long timeoutNanos) throws Exception {
    ProtocolVersion protocol = connection instanceof StatefulRedisConnectionImpl<?, ?> impl
        ? impl.getConnectionState().getNegotiatedProtocolVersion() : connection.getOptions().getProtocolVersion();
    if (protocol != null && protocol != ProtocolVersion.RESP3) {
      throw new IllegalStateException("invalidation CLIENT_TRACKING needs a RESP3 connection (Redis 6 or later, and"
          + " the client's ClientOptions.protocolVersion RESP3 or unset), but the connection speaks " + protocol);
    }
    try {
      connection.async().clientTracking(TrackingArgs.Builder.enabled().bcast().prefixes(prefix).noloop())
          .get(timeoutNanos, TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RedisCommandExecutionException r && r.getMessage() != null
          && r.getMessage().contains("overlaps")) {
        return; // this connection tracks the prefix already
      }
      throw e;
    }
  }

  @Override
  public void onPushMessage(PushMessage message) {
    if (!"invalidate".equals(message.getType())) {
      return;
    }
    try {
      List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
      Object keys = content.size() > 1 ? content.get(1) : null;
      if (!(keys instanceof List<?> list)) {
        onFlush.run(); // FLUSHALL, FLUSHDB, or the server dropped its tracking state
        return;
      }
      List<String> texts = new ArrayList<>(list.size());
      boolean all = false;
      for (Object k : list) {
        String redisKey = String.valueOf(k);
        if (redisKey.startsWith(prefix)) {
          String text = redisKey.substring(prefix.length());
          if (ALL_KEY.equals(text)) {
            all = true;
          } else {
            texts.add(text);
          }
        }
      }
      if (all) {
        onFlush.run();
      }
      if (!texts.isEmpty()) {
        onKeys.accept(texts);
      }
    } catch (RuntimeException e) {
      LOG.warn("GiftKit cache '{}': could not apply a Redis invalidation message; dropping all of L1", name, e);
      onFlush.run();
    }
  }
}
