package io.giftkit.cache;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TieredCache}'s Redis connections (commands, and under {@link InvalidationMode#PUB_SUB} a
 * pub/sub connection subscribed to the invalidation channel) and its view of whether Redis answers.
 * Under {@link InvalidationMode#CLIENT_TRACKING} there is no pub/sub connection: the command
 * connection carries the tracking ({@link ClientTracking}).
 *
 * <p>{@link #start()} tries to connect once on the caller's thread (bounded by the client's connect
 * timeout); if Redis is down the cache is still usable ({@link #commands()} is null, {@link #usable()}
 * false) and the connection is tried again on the background thread every {@code retryAfter} until
 * it succeeds. Once both connections are up and subscribed, {@code onSubscribed} runs (the cache
 * clears L1: invalidations were missed) and {@link TieredCacheListener#onRedisUp} is reported. After
 * that Lettuce reconnects by itself, and {@code onSubscribed} runs on each pub/sub reconnect. Under
 * client tracking, each reconnect of the command connection makes the background thread turn
 * tracking on again (Redis forgot it with the old connection; Lettuce does not restore it), retried
 * every {@code retryAfter} until Redis takes it, and then {@code onSubscribed} runs.
 *
 * <p>The client is a {@link RedisClient} (one server, or Sentinel through its URI) or a
 * {@link RedisClusterClient}: then the command connection routes each command by its key's slot
 * (every command the cache sends names one key, a Lua script included), and the pub/sub connection
 * subscribes on one node, which hears what is published on any node (classic pub/sub is
 * cluster-wide). Client tracking needs a {@link RedisClient} (checked by the builder).
 *
 * <p>A command that fails or times out ({@link #failed}) marks Redis down for {@code retryAfter}
 * (reported once); one that answers ({@link #answered}) marks it up. Thread-safe.
 */
final class RedisLink implements AutoCloseable {

  static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  private static final Logger LOG = LoggerFactory.getLogger(TieredCache.class);
  private static final long MIN_SETUP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final String name;
  private final AbstractRedisClient client; // RedisClient or RedisClusterClient
  private final String channel;
  private final Ticker ticker;
  private final long retryAfterNanos;
  private final long setupTimeoutNanos;
  private final ScheduledExecutorService background;
  private final Listeners<TieredCacheListener> listeners;
  private final Consumer<String> onMessage;
  private final Runnable onSubscribed;
  private final ClientTracking tracking; // null under PUB_SUB
  private final AtomicLong connects = new AtomicLong(); // command-connection reconnects (tracking)
  private final AtomicBoolean down = new AtomicBoolean();
  private final LongAdder errors = new LongAdder();
  private final LongAdder connectFailures = new LongAdder();
  private volatile long retryAt;
  private volatile RedisClusterAsyncCommands<String, byte[]> commands; // null until both connections are up
  private StatefulConnection<String, byte[]> connection; // guarded by this
  private StatefulRedisPubSubConnection<String, String> pubSub; // guarded by this
  private boolean closed; // guarded by this

  RedisLink(String name, AbstractRedisClient client, String channel, Ticker ticker, long timeoutNanos, long retryAfterNanos,
      ScheduledExecutorService background, Listeners<TieredCacheListener> listeners, Consumer<String> onMessage,
      Runnable onSubscribed, ClientTracking tracking) {
    this.name = name;
    this.client = client;
    this.channel = channel;
    this.ticker = ticker;
    this.retryAfterNanos = retryAfterNanos;
    this.setupTimeoutNanos = Math.max(timeoutNanos, MIN_SETUP_TIMEOUT_NANOS);
    this.background = background;
    this.listeners = listeners;
    this.onMessage = onMessage;
    this.onSubscribed = onSubscribed;
    this.tracking = tracking;
  }

  /** Connects now, or (Redis down) reports it and keeps trying in the background. */
  void start() {
    if (!tryConnect()) {
      scheduleReconnect();
    }
  }

  /** @return the command connection's async commands, or null while never connected */
  RedisClusterAsyncCommands<String, byte[]> commands() {
    return commands;
  }

  /** @return whether to send Redis a command now: connected, and not within a retry pause */
  boolean usable() {
    return commands != null && (!down.get() || ticker.read() - retryAt >= 0);
  }

  /** @return the commands if Redis may be asked now ({@link #usable()}), else null */
  RedisClusterAsyncCommands<String, byte[]> commandsIfUsable() {
    RedisClusterAsyncCommands<String, byte[]> c = commands;
    return c != null && (!down.get() || ticker.read() - retryAt >= 0) ? c : null;
  }

  /** @return whether Redis is considered down (never connected, or the last command failed) */
  boolean isDown() {
    return commands == null || down.get();
  }

  /** @return whether both connections were ever established */
  boolean connected() {
    return commands != null;
  }

  long errors() {
    return errors.sum();
  }

  long connectFailures() {
    return connectFailures.sum();
  }

  /** A command answered: Redis is up (reported if it was down). */
  void answered() {
    if (down.get() && commands != null && down.compareAndSet(true, false)) {
      LOG.info("GiftKit cache '{}': Redis answers again", name);
      listeners.fire(l -> l.onRedisUp(name));
    }
  }

  /** A command failed or timed out: skip Redis for {@code retryAfter} (reported once). */
  void failed(Throwable cause) {
    errors.increment();
    retryAt = ticker.read() + retryAfterNanos;
    if (down.compareAndSet(false, true)) {
      LOG.warn("GiftKit cache '{}': Redis failed or timed out ({}); serving L1 and the loader for now", name,
          cause.toString());
      listeners.fire(l -> l.onRedisDown(name, cause));
    }
  }

  private synchronized boolean tryConnect() {
    if (closed) {
      return true;
    }
    try {
      if (connection == null) {
        connection = tracking == null ? connectPlain() : connectTracked();
      }
      if (tracking == null && pubSub == null) {
        pubSub = subscribe();
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      connectFailures.increment();
      failed(e);
      LOG.debug("GiftKit cache '{}': cannot connect to Redis; trying again in {} ms", name,
          TimeUnit.NANOSECONDS.toMillis(retryAfterNanos), e);
      return false;
    }
    onSubscribed.run();
    commands = connection instanceof StatefulRedisClusterConnection<String, byte[]> cluster ? cluster.async()
        : ((StatefulRedisConnection<String, byte[]>) connection).async();
    answered();
    return true;
  }

  private StatefulConnection<String, byte[]> connectPlain() {
    return client instanceof RedisClusterClient cluster ? cluster.connect(CODEC) : ((RedisClient) client).connect(CODEC);
  }

  private StatefulRedisConnection<String, byte[]> connectTracked() throws Exception {
    StatefulRedisConnection<String, byte[]> c = ((RedisClient) client).connect(CODEC); // the builder checked
    try {
      c.addListener(tracking);
      c.addListener(new RedisConnectionStateListener() { // before enable: a reconnect from now on is seen
        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> h, SocketAddress address) {
          long epoch = connects.incrementAndGet(); // a reconnect: Redis forgot the tracking
          retrack(c, epoch, 0);
        }
      });
      tracking.enable(c, setupTimeoutNanos);
      return c;
    } catch (Exception e) {
      c.closeAsync();
      throw e;
    }
  }

  /** Turns tracking on again on the background thread (retried), then runs {@code onSubscribed}. */
  private void retrack(StatefulRedisConnection<String, byte[]> c, long epoch, long delayNanos) {
    try {
      background.schedule(() -> {
        synchronized (this) {
          if (closed || epoch != connects.get()) {
            return; // closed, or reconnected again: the newer attempt does it
          }
        }
        try {
          tracking.enable(c, setupTimeoutNanos);
        } catch (Exception e) {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          failed(e);
          LOG.warn("GiftKit cache '{}': could not turn Redis client tracking on again after a reconnect ({});"
              + " trying again in {} ms", name, e.toString(), TimeUnit.NANOSECONDS.toMillis(retryAfterNanos));
          retrack(c, epoch, retryAfterNanos);
          return;
        }
        onSubscribed.run(); // invalidations were missed while disconnected and until now
        LOG.info("GiftKit cache '{}': Redis client tracking on again after a reconnect; L1 cleared", name);
      }, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  private StatefulRedisPubSubConnection<String, String> subscribe() throws Exception {
    StatefulRedisPubSubConnection<String, String> ps = client instanceof RedisClusterClient cluster
        ? cluster.connectPubSub() : ((RedisClient) client).connectPubSub();
    try {
      ps.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String ch, String message) {
          onMessage.accept(message);
        }
      });
      ps.async().subscribe(channel).get(setupTimeoutNanos, TimeUnit.NANOSECONDS);
      ps.addListener(new RedisConnectionStateListener() {
        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress address) {
          onSubscribed.run(); // a reconnect: invalidations may have been missed while disconnected
        }
      });
      return ps;
    } catch (Exception e) {
      ps.closeAsync();
      throw e;
    }
  }

  private void scheduleReconnect() {
    try {
      background.schedule(() -> {
        if (!tryConnect()) {
          scheduleReconnect();
        }
      }, retryAfterNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    commands = null;
    if (pubSub != null) {
      pubSub.close();
    }
    if (connection != null) {
      connection.close();
    }
  }
}
