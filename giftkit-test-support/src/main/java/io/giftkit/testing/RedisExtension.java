package io.giftkit.testing;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Redis server for a test class, with a key prefix of the class's own; every key under the
 * prefix is deleted after the class:
 *
 * <pre>{@code
 * @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
 *
 * REDIS.commands().set(REDIS.key("room:42"), "...");
 * }</pre>
 *
 * <p>The server is {@code redis://127.0.0.1:6379} unless {@value #URL_ENV} says otherwise. If it
 * cannot be reached the test class fails with a {@link ServiceUnavailableError} saying how to start
 * it. Thread-safe (Lettuce connections are).
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

  /** The server's URL, e.g. {@code redis://127.0.0.1:6379}. */
  public static final String URL_ENV = "GIFTKIT_REDIS_URL";

  static final String DEFAULT_URL = "redis://127.0.0.1:6379";

  private final String url;
  private final String keyPrefix;
  private RedisClient client;
  private StatefulRedisConnection<String, String> connection;

  /** Uses the server the environment names, or the local default. */
  public RedisExtension() {
    this(TestNames.env(URL_ENV, DEFAULT_URL));
  }

  /**
   * Uses the given server.
   *
   * @param url e.g. {@code redis://127.0.0.1:6379}
   */
  public RedisExtension(String url) {
    this.url = url;
    this.keyPrefix = "gk-test:" + TestNames.randomHex() + ":";
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /**
   * Connects.
   *
   * @throws ServiceUnavailableError if the server cannot be reached
   */
  public synchronized void start() {
    if (connection != null) {
      return;
    }
    RedisURI uri = redisUri();
    RedisClient c = RedisClient.create(uri);
    c.setOptions(ClientOptions.builder()
        .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(3)).build())
        .build());
    try {
      connection = c.connect();
      connection.sync().ping();
    } catch (RuntimeException e) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      throw ServiceUnavailableError.redis(redisUri().toString(), e);
    }
    client = c;
  }

  /** Deletes every key under the prefix and disconnects. */
  public synchronized void close() {
    if (connection == null) {
      return;
    }
    try {
      cleanUp();
    } finally {
      connection.close();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      connection = null;
      client = null;
    }
  }

  /**
   * Deletes every key under this class's prefix.
   *
   * @return how many keys were deleted
   */
  public long cleanUp() {
    RedisCommands<String, String> redis = commands();
    long deleted = 0;
    ScanArgs match = ScanArgs.Builder.matches(keyPrefix + "*").limit(500);
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      KeyScanCursor<String> page = redis.scan(cursor, match);
      if (!page.getKeys().isEmpty()) {
        deleted += redis.del(page.getKeys().toArray(new String[0]));
      }
      cursor = page;
    } while (!cursor.isFinished());
    return deleted;
  }

  /**
   * Returns this class's key prefix, {@code gk-test:<8 hex digits>:}.
   *
   * @return the prefix
   */
  public String keyPrefix() {
    return keyPrefix;
  }

  /**
   * Returns a key under this class's prefix.
   *
   * @param name the key's own part
   * @return {@code keyPrefix() + name}
   */
  public String key(String name) {
    return keyPrefix + name;
  }

  /**
   * Returns the server's address.
   *
   * @return the URL given or from the environment
   */
  public String url() {
    return url;
  }

  /**
   * Returns the server's address as a Lettuce URI (3 s command timeout).
   *
   * @return a new URI
   */
  public RedisURI redisUri() {
    RedisURI uri = RedisURI.create(url);
    uri.setTimeout(Duration.ofSeconds(3));
    return uri;
  }

  /**
   * Returns the client, for tests that open their own connections.
   *
   * @return the client
   * @throws IllegalStateException before {@link #start}
   */
  public synchronized RedisClient client() {
    requireStarted();
    return client;
  }

  /**
   * Returns synchronous commands on the shared connection.
   *
   * @return the commands
   * @throws IllegalStateException before {@link #start}
   */
  public synchronized RedisCommands<String, String> commands() {
    requireStarted();
    return connection.sync();
  }

  private void requireStarted() {
    if (connection == null) {
      throw new IllegalStateException("RedisExtension has not started: register it with @RegisterExtension"
          + " on a static field, or call start()");
    }
  }
}
