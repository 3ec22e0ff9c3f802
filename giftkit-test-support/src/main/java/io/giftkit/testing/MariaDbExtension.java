package io.giftkit.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throw-away database on a real MariaDB (or MySQL 8) server for each test class, dropped after it:
 *
 * <pre>{@code
 * @RegisterExtension static final MariaDbExtension MARIADB = new MariaDbExtension();
 *
 * try (Connection c = MARIADB.newConnection()) { ... }          // the class's own database
 * String shard3 = MARIADB.createDatabase("shard3");             // more, dropped with it
 * }</pre>
 *
 * <p>The server is {@code jdbc:mariadb://127.0.0.1:3306/} as {@code root} with an empty password,
 * unless {@value #URL_ENV}, {@value #USER_ENV} and {@value #PASSWORD_ENV} say otherwise. If the server
 * cannot be reached the test class fails with a {@link ServiceUnavailableError} saying how to start
 * it. Thread-safe.
 */
public final class MariaDbExtension implements BeforeAllCallback, AfterAllCallback {

  /** The server URL without a database, e.g. {@code jdbc:mariadb://127.0.0.1:3306/}. */
  public static final String URL_ENV = "GIFTKIT_MYSQL_URL";
  /** The user. */
  public static final String USER_ENV = "GIFTKIT_MYSQL_USER";
  /** The password (never logged nor shown in messages). */
  public static final String PASSWORD_ENV = "GIFTKIT_MYSQL_PASSWORD";

  static final String DEFAULT_URL = "jdbc:mariadb://127.0.0.1:3306/";

  private final String serverUrl;
  private final String user;
  private final String password;
  private final List<String> created = new ArrayList<>();
  private volatile String database;

  /** Uses the server the environment names, or the local default. */
  public MariaDbExtension() {
    this(TestNames.env(URL_ENV, DEFAULT_URL), TestNames.env(USER_ENV, "root"), TestNames.env(PASSWORD_ENV, ""));
  }

  /**
   * Uses the given server.
   *
   * @param serverUrl a JDBC URL without a database, e.g. {@code jdbc:mariadb://127.0.0.1:3306/}
   * @param user the user
   * @param password the password
   */
  public MariaDbExtension(String serverUrl, String user, String password) {
    this.serverUrl = serverUrl;
    this.user = user;
    this.password = password;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    start(context.getRequiredTestClass().getSimpleName());
  }

  @Override
  public void afterAll(ExtensionContext context) throws SQLException {
    dropAll();
  }

  /**
   * Creates the class's own database (what {@link #database()} and {@link #jdbcUrl()} name).
   *
   * @param label a readable part of the name, e.g. the test class's name
   * @return the database's name
   * @throws ServiceUnavailableError if the server cannot be reached
   */
  public String start(String label) {
    database = createDatabase(label);
    return database;
  }

  /**
   * Creates another throw-away database, dropped by {@link #dropAll()} (after the test class).
   *
   * @param label a readable part of the name
   * @return the database's name: {@code gk_<label>_<8 hex digits>}
   * @throws ServiceUnavailableError if the server cannot be reached
   */
  public String createDatabase(String label) {
    String name = "gk_" + TestNames.unique(label, 40, '_');
    try (Connection c = connect(serverUrl); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    } catch (SQLException e) {
      throw ServiceUnavailableError.mariaDb(serverUrl + " (user " + user + ")", e);
    }
    synchronized (created) {
      created.add(name);
    }
    return name;
  }

  /**
   * Drops every database this extension created.
   *
   * @throws SQLException if a drop fails
   */
  public void dropAll() throws SQLException {
    List<String> toDrop;
    synchronized (created) {
      toDrop = new ArrayList<>(created);
      created.clear();
    }
    if (toDrop.isEmpty()) {
      return;
    }
    try (Connection c = connect(serverUrl); Statement s = c.createStatement()) {
      for (String name : toDrop) {
        s.execute("DROP DATABASE IF EXISTS `" + name + "`");
      }
    }
  }

  /**
   * Returns the class's own database.
   *
   * @return its name
   * @throws IllegalStateException before {@link #start}
   */
  public String database() {
    String db = database;
    if (db == null) {
      throw new IllegalStateException("MariaDbExtension has not started: register it with @RegisterExtension"
          + " on a static field, or call start(label)");
    }
    return db;
  }

  /**
   * Returns a JDBC URL for the class's own database.
   *
   * @return the URL
   */
  public String jdbcUrl() {
    return jdbcUrl(database());
  }

  /**
   * Returns a JDBC URL for the given database on this server.
   *
   * @param databaseName a database name
   * @return the URL
   */
  public String jdbcUrl(String databaseName) {
    return withDatabase(serverUrl, databaseName);
  }

  /**
   * Returns the server's URL, without a database.
   *
   * @return the URL
   */
  public String serverUrl() {
    return serverUrl;
  }

  /**
   * Returns the user.
   *
   * @return the user
   */
  public String user() {
    return user;
  }

  /**
   * Returns the password.
   *
   * @return the password
   */
  public String password() {
    return password;
  }

  /**
   * Opens a connection to the class's own database; the caller closes it.
   *
   * @return the connection
   * @throws SQLException if it cannot be opened
   */
  public Connection newConnection() throws SQLException {
    return connect(jdbcUrl());
  }

  /**
   * Opens a connection to the given database; the caller closes it.
   *
   * @param databaseName the database
   * @return the connection
   * @throws SQLException if it cannot be opened
   */
  public Connection newConnection(String databaseName) throws SQLException {
    return connect(jdbcUrl(databaseName));
  }

  private Connection connect(String url) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", "5000");
    return DriverManager.getConnection(url, props);
  }

  /** Puts {@code database} into the path of a JDBC URL, keeping any query string. */
  static String withDatabase(String url, String database) {
    int query = url.indexOf('?');
    String base = query < 0 ? url : url.substring(0, query);
    String params = query < 0 ? "" : url.substring(query);
    int hostStart = base.indexOf("//");
    if (hostStart < 0) {
      throw new IllegalArgumentException(URL_ENV + " must look like jdbc:mariadb://host:port/, but was " + url);
    }
    int pathStart = base.indexOf('/', hostStart + 2);
    String hostPart = pathStart < 0 ? base : base.substring(0, pathStart);
    return hostPart + "/" + database + params;
  }

  @Override
  public String toString() {
    return "MariaDbExtension{" + serverUrl + ", user=" + user + ", database=" + database + "}";
  }
}
