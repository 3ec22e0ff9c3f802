package io.giftkit.mq.outbox;

import io.giftkit.core.Checks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The writer side of the transactional outbox: {@link #add} writes an event as a row of the outbox
 * table <em>in the caller's transaction</em>, so the event exists if and only if the business change
 * beside it commits. An {@link OutboxRelay} publishes the committed rows to Kafka later. Writing needs
 * no broker: a broker outage never fails or slows the writer.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.builder().build();           // table giftkit_outbox
 * outbox.createTable(shardDataSource);                 // once per database, or put the DDL in your migrations
 *
 * try (Connection c = shardDataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   orders.markPaid(c, orderId);
 *   outbox.add(c, "gift-events", orderId, eventBytes);   // same transaction, same shard
 *   c.commit();
 * }
 * relay.wakeUp("shard-3");                            // optional: publish now, not at the next poll
 * }</pre>
 *
 * <p><b>Tables</b> ({@link #createTable} creates both; portable across MariaDB 10.6+, MySQL 8 and H2 2.x
 * in {@code MODE=MySQL}):
 *
 * <pre>
 * CREATE TABLE IF NOT EXISTS giftkit_outbox (
 *   id BIGINT AUTO_INCREMENT PRIMARY KEY, topic VARCHAR(249) NOT NULL, msg_key VARCHAR(255) NULL,
 *   payload LONGBLOB NOT NULL, headers MEDIUMBLOB NULL, attempts INT NOT NULL,
 *   available_at BIGINT NOT NULL, claimed_by VARCHAR(64) NULL, created_at BIGINT NOT NULL,
 *   INDEX giftkit_outbox_available_at (available_at))
 * CREATE TABLE IF NOT EXISTS giftkit_outbox_owner (
 *   id INT PRIMARY KEY, owned_by VARCHAR(64) NOT NULL, lease_until BIGINT NOT NULL)
 * </pre>
 *
 * Times are epoch milliseconds of the writer's and relay's {@link Clock}s. A <em>parked</em> row (one
 * Kafka refused permanently, see {@link OutboxRelay}) has {@code available_at =} {@value #PARKED} and
 * {@code claimed_by = 'parked:<error>'}; it stays in the table until {@link #retryParked} or an operator
 * deals with it.
 *
 * <p>Immutable and thread-safe. Every method blocks for one statement on the given connection or
 * data source and throws {@link SQLException} on database failure; bad arguments throw {@link
 * io.giftkit.core.InvalidConfigException} naming the argument.
 */
public final class Outbox {

  /** The default table name. */
  public static final String DEFAULT_TABLE = "giftkit_outbox";
  /** {@code available_at} of a parked row: never due. */
  public static final long PARKED = Long.MAX_VALUE;
  /** The longest message key, in characters ({@code msg_key VARCHAR(255)}). */
  public static final int MAX_KEY_LENGTH = 255;

  static final String PARKED_PREFIX = "parked:";
  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
  // Kafka's own rule for topic names.
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  private final String table;
  private final Clock clock;
  private final String insert;

  private Outbox(Builder b) {
    this.table = b.table;
    this.clock = b.clock;
    this.insert = "INSERT INTO " + table
        + " (topic, msg_key, payload, headers, attempts, available_at, claimed_by, created_at)"
        + " VALUES (?, ?, ?, ?, 0, ?, NULL, ?)";
  }

  /** @return a builder with the defaults (table {@value #DEFAULT_TABLE}, UTC system clock) */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the table's name */
  public String table() {
    return table;
  }

  Clock clock() {
    return clock;
  }

  /**
   * Creates the table and its index on {@code available_at}, and the relay's owner table, where they do
   * not exist (portable DDL, see the class comment). Run it once per database (shard), or put both
   * statements ({@link #ddl()}, {@link #ownerDdl()}) in your migrations.
   *
   * @param dataSource the database
   * @throws SQLException on database failure
   */
  public void createTable(DataSource dataSource) throws SQLException {
    Checks.requireNonNull("dataSource", dataSource);
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute(ddl());
      s.execute(ownerDdl());
    }
  }

  /** @return the outbox table's {@code CREATE TABLE} statement, which {@link #createTable} runs */
  public String ddl() {
    return "CREATE TABLE IF NOT EXISTS " + table + " ("
        + "id BIGINT AUTO_INCREMENT PRIMARY KEY, topic VARCHAR(249) NOT NULL, msg_key VARCHAR(" + MAX_KEY_LENGTH
        + ") NULL, payload LONGBLOB NOT NULL, headers MEDIUMBLOB NULL, attempts INT NOT NULL,"
        + " available_at BIGINT NOT NULL, claimed_by VARCHAR(64) NULL, created_at BIGINT NOT NULL,"
        + " INDEX " + indexName() + " (available_at))";
  }

  /**
   * @return the {@code CREATE TABLE} statement of the owner table ({@link #ownerTable()}), which
   *     {@link #createTable} runs too: one row, naming the relay that publishes this database's outbox
   *     and until when (see {@link OutboxRelay})
   */
  public String ownerDdl() {
    return "CREATE TABLE IF NOT EXISTS " + ownerTable() + " (id INT PRIMARY KEY, owned_by VARCHAR(64) NOT NULL,"
        + " lease_until BIGINT NOT NULL)";
  }

  /** @return the owner table's name: the table's name (cut to 58 characters) followed by {@code _owner} */
  public String ownerTable() {
    return cut(table, "_owner");
  }

  // H2 names indexes per schema, MySQL per table (at most 64 characters): <table>_available_at, the
  // table's part cut so that the name fits.
  private String indexName() {
    return cut(table, "_available_at");
  }

  private static String cut(String table, String suffix) {
    return (table.length() + suffix.length() <= 64 ? table : table.substring(0, 64 - suffix.length())) + suffix;
  }

  /**
   * Adds an event without headers; see {@link #add(Connection, String, String, byte[], Map)}.
   *
   * @param connection the caller's connection, usually inside its transaction
   * @param topic the Kafka topic
   * @param key the record key (UTF-8 encoded when sent), or null
   * @param payload the record value
   * @throws SQLException on database failure
   */
  public void add(Connection connection, String topic, String key, byte[] payload) throws SQLException {
    add(connection, topic, key, payload, Map.of());
  }

  /**
   * Adds an event as a row in the caller's transaction: it commits or rolls back with the caller's
   * other writes. The connection's auto-commit setting is left alone (with auto-commit on, the row is
   * committed at once). Blocks for one insert.
   *
   * @param connection the caller's connection to the database holding the table
   * @param topic the Kafka topic: 1 to 249 characters of {@code A-Z a-z 0-9 . _ -}
   * @param key the record key (UTF-8 encoded when sent), at most 255 characters, or null
   * @param payload the record value; not null (it is not copied: do not change it until this returns)
   * @param headers record headers in iteration order (names not blank; values may be null); may be empty
   * @throws SQLException on database failure
   * @throws io.giftkit.core.InvalidConfigException if an argument breaks its rule
   */
  public void add(Connection connection, String topic, String key, byte[] payload, Map<String, byte[]> headers)
      throws SQLException {
    Checks.requireNonNull("connection", connection);
    Checks.requireMatches("topic", topic, TOPIC, "a Kafka topic name: 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
    if (key != null && key.length() > MAX_KEY_LENGTH) {
      throw Checks.invalid("key", "must be at most " + MAX_KEY_LENGTH + " characters",
          key.length() + " characters");
    }
    Checks.requireNonNull("payload", payload);
    Checks.requireNonNull("headers", headers);
    for (String name : headers.keySet()) {
      Checks.requireNonBlank("header name", name);
    }
    long now = clock.millis();
    try (PreparedStatement ps = connection.prepareStatement(insert)) {
      ps.setString(1, topic);
      ps.setString(2, key);
      ps.setBytes(3, payload);
      ps.setBytes(4, OutboxHeaders.encode(headers));
      ps.setLong(5, now);
      ps.setLong(6, now);
      ps.executeUpdate();
    }
  }

  /**
   * Counts the parked rows in one database (rows Kafka refused permanently; see {@link OutboxRelay}).
   *
   * @param dataSource the database
   * @return the number of parked rows
   * @throws SQLException on database failure
   */
  public long parkedRows(DataSource dataSource) throws SQLException {
    Checks.requireNonNull("dataSource", dataSource);
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM " + table + " WHERE available_at = ?")) {
      ps.setLong(1, PARKED);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Makes every parked row of one database due again with its attempts reset (after the cause was
   * fixed, e.g. the topic created or {@code max.request.size} raised).
   *
   * @param dataSource the database
   * @return the number of rows made due
   * @throws SQLException on database failure
   */
  public int retryParked(DataSource dataSource) throws SQLException {
    Checks.requireNonNull("dataSource", dataSource);
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
        "UPDATE " + table + " SET attempts = 0, claimed_by = NULL, available_at = ? WHERE available_at = ?")) {
      ps.setLong(1, clock.millis());
      ps.setLong(2, PARKED);
      return ps.executeUpdate();
    }
  }

  @Override
  public String toString() {
    return "Outbox{table=" + table + "}";
  }

  /** Builds an {@link Outbox}. Not thread-safe. */
  public static final class Builder {
    private String table = DEFAULT_TABLE;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * @param table the table; 1 to 64 characters of {@code A-Z a-z 0-9 _}; default {@value Outbox#DEFAULT_TABLE}
     * @return this builder
     */
    public Builder table(String table) {
      this.table = Checks.requireMatches("table", table, TABLE, "1 to 64 characters of A-Z, a-z, 0-9 or '_'");
      return this;
    }

    /**
     * @param clock the wall clock for {@code created_at} and {@code available_at}; default UTC system clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Checks.requireNonNull("clock", clock);
      return this;
    }

    /** @return the outbox */
    public Outbox build() {
      return new Outbox(this);
    }
  }
}
