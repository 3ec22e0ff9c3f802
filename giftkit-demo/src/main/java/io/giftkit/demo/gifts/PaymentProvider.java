package io.giftkit.demo.gifts;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.giftkit.demo.faults.FaultInjector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The simulated payment provider, behaving like a real one: its charges live in its own database
 * ({@code giftkit.demo.payment.url}; table {@code payment_charge}), so they survive a restart of
 * the application; it is idempotent by order id; and it can be slow or fail ({@code /admin/faults},
 * dependency {@code payment}) or decline a share of charges (dependency {@code payment-decline}, its
 * error rate).
 *
 * <p>A charge travels like a remote call: the injected latency comes first (the request is slow to
 * arrive), then the charge is recorded, then the injected error (the answer is lost): a timed-out or
 * failed call may still have charged. An order can be <em>voided</em>: the provider then refuses any
 * later charge of it ({@code DECLINED}), so the re-check can decide {@code FAILED} without a charge
 * landing afterwards. {@link #voidUnlessCharged} is atomic: of a racing charge and void, exactly one
 * wins.
 */
@Component
public class PaymentProvider implements DisposableBean {

  /** A charge's state as the provider records it. */
  public enum State {
    /** Charged: the money moved. */
    CHARGED,
    /** Voided: never charged, and no charge will be accepted. */
    VOIDED,
    /** Nothing recorded for the order. */
    NONE
  }

  private static final Logger LOG = LoggerFactory.getLogger(PaymentProvider.class);

  private final FaultInjector faults;
  private final HikariDataSource db;
  private final LongAdder chargedThenFailed = new LongAdder();

  public PaymentProvider(FaultInjector faults, @Value("${giftkit.demo.payment.url}") String url,
      @Value("${giftkit.demo.payment.username:}") String user, @Value("${giftkit.demo.payment.password:}") String password,
      @Value("${giftkit.demo.payment.min-idle:2}") int minIdle)
      throws SQLException {
    this.faults = faults;
    HikariConfig c = new HikariConfig();
    c.setPoolName("payment-provider");
    c.setJdbcUrl(url);
    c.setUsername(user);
    c.setPassword(password);
    c.setMaximumPoolSize(16);
    c.setMinimumIdle(Math.max(0, Math.min(16, minIdle)));
    c.setConnectionTimeout(2_000);
    c.setInitializationFailTimeout(-1); // a provider that is down at start-up is a failing dependency, not a failed start
    this.db = new HikariDataSource(c);
    try {
      ensureTable();
    } catch (SQLException down) { // created on first use instead: a down provider fails calls, not the start
      LOG.warn("payment provider: its database does not answer yet ({}); the table is created on first use",
          down.getMessage());
    }
  }

  private volatile boolean tableReady;

  private void ensureTable() throws SQLException {
    if (tableReady) {
      return;
    }
    try (Connection con = db.getConnection(); Statement st = con.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS payment_charge (order_id BIGINT PRIMARY KEY, uid BIGINT NOT NULL,"
          + " amount BIGINT NOT NULL, state VARCHAR(8) NOT NULL, updated_at BIGINT NOT NULL)");
    }
    tableReady = true;
  }

  private Connection connection() throws SQLException {
    ensureTable();
    return db.getConnection();
  }

  /**
   * Charges an order, idempotently by order id.
   *
   * @param orderId the order
   * @param uid the customer (the merchant's reference)
   * @param amount the amount
   * @return true if the order is charged (now or before); false if it was voided (declined)
   * @throws FaultInjector.SimulatedFailureException when a failure is injected (the charge stands)
   * @throws IllegalStateException if the provider's database fails
   */
  public boolean charge(long orderId, long uid, long amount) {
    faults.delay("payment");
    State state;
    try (Connection c = connection()) {
      c.setAutoCommit(true);
      // an injected decline (say, insufficient balance) is a clean "no": recorded, so a retry is declined too
      boolean declined = faults.triggered("payment-decline");
      state = insertIfAbsent(c, orderId, uid, declined ? 0 : amount, declined ? State.VOIDED : State.CHARGED);
    } catch (SQLException e) {
      throw new IllegalStateException("payment provider: charging order " + orderId + " failed: " + e.getMessage(), e);
    }
    if (state == State.CHARGED) {
      try {
        faults.maybeFail("payment");
      } catch (RuntimeException e) {
        chargedThenFailed.increment();
        throw e;
      }
    }
    return state == State.CHARGED;
  }

  /**
   * @param orderId the order
   * @return what the provider recorded for it
   * @throws FaultInjector.SimulatedFailureException when a failure is injected
   */
  public State status(long orderId) {
    faults.apply("payment");
    try (Connection c = connection()) {
      return read(c, orderId);
    } catch (SQLException e) {
      throw new IllegalStateException("payment provider: reading order " + orderId + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Voids an order unless it is charged: afterwards no charge of it is accepted.
   *
   * @param orderId the order
   * @param uid the customer
   * @return {@code CHARGED} if a charge had landed (the order is paid), else {@code VOIDED}
   * @throws FaultInjector.SimulatedFailureException when a failure is injected
   */
  public State voidUnlessCharged(long orderId, long uid) {
    faults.apply("payment");
    try (Connection c = connection()) {
      c.setAutoCommit(true);
      return insertIfAbsent(c, orderId, uid, 0, State.VOIDED);
    } catch (SQLException e) {
      throw new IllegalStateException("payment provider: voiding order " + orderId + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Records a charge whatever the order's state (a provider-side correction, or a charge the provider
   * reports late): what the reconciliation sweep must catch when the order says otherwise. Used by
   * the scenario and the tests to create a disagreement on purpose.
   *
   * @param orderId the order
   * @param uid the customer
   * @param amount the amount
   */
  public void forceCharge(long orderId, long uid, long amount) throws SQLException {
    try (Connection c = connection(); PreparedStatement del = c.prepareStatement(
        "DELETE FROM payment_charge WHERE order_id = ?")) {
      c.setAutoCommit(true);
      del.setLong(1, orderId);
      del.executeUpdate();
      insertIfAbsent(c, orderId, uid, amount, State.CHARGED);
    }
  }

  private static State insertIfAbsent(Connection c, long orderId, long uid, long amount, State state)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO payment_charge (order_id, uid, amount, state, updated_at)"
        + " VALUES (?, ?, ?, ?, ?)")) {
      ps.setLong(1, orderId);
      ps.setLong(2, uid);
      ps.setLong(3, amount);
      ps.setString(4, state.name());
      ps.setLong(5, System.currentTimeMillis());
      ps.executeUpdate();
      return state;
    } catch (SQLException e) {
      if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
        throw e;
      }
      return read(c, orderId); // already recorded: the first decision stands
    }
  }

  private static State read(Connection c, long orderId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT state FROM payment_charge WHERE order_id = ?")) {
      ps.setLong(1, orderId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? State.valueOf(rs.getString(1)) : State.NONE;
      }
    }
  }

  /** @return the provider's database (the reconciliation sweep reads its charges) */
  public DataSource database() {
    return db;
  }

  /** @return charges whose answer was an injected failure (charged, but the caller heard an error) */
  public long chargedThenFailed() {
    return chargedThenFailed.sum();
  }

  @Override
  public void destroy() {
    db.close();
  }
}
