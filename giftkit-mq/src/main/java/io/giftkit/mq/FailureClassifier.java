package io.giftkit.mq;

import io.giftkit.core.GiftkitTimeoutException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.sql.SQLDataException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Sorts a record's failure into one of three kinds: non-retryable (straight to the dead-letter
 * topic), transient (retried with back-off and jitter within a time budget), or other (retried a
 * fixed number of times). One job; immutable, thread-safe.
 *
 * <p>The failure and its causes are looked at from the outermost in; the first that matches decides,
 * and on one throwable the user's classes come before the defaults, non-retryable before transient.
 *
 * <p>Non-retryable by default: {@link SerializationException} (Kafka's, deserialization included),
 * {@link IllegalArgumentException} (validation; {@link NumberFormatException} and GiftKit's
 * {@code InvalidConfigException} are ones), {@link ClassCastException}, {@link SQLDataException}
 * (data the database refuses, SQL state 22). Transient: {@link SQLTransientException} (timeouts,
 * rollbacks such as deadlocks, transient connection failures), {@link SQLRecoverableException}, an
 * {@link SQLException} with SQL state 40001 (serialization failure, MySQL's deadlock), 40P01
 * (PostgreSQL's deadlock) or class 08 (connection), or MySQL/MariaDB error 1213 (deadlock), 1205
 * (lock wait timeout), 1290 and 1836 ({@code read_only}, as during a switchover), 1792 (read-only
 * transaction), 1040 (too many connections), 2006/2013 (connection gone or lost);
 * {@link TimeoutException}, {@link SocketTimeoutException}, {@link ConnectException}, Kafka's
 * {@link RetriableException} and GiftKit's {@link GiftkitTimeoutException}.
 */
final class FailureClassifier {

  /** A failure's kind. */
  enum Kind {
    /** Dead-lettered at once. */
    NON_RETRYABLE,
    /** Retried with back-off and jitter until the retry budget is spent. */
    TRANSIENT,
    /** Retried up to the maximum attempts. */
    OTHER
  }

  static final List<Class<? extends Throwable>> DEFAULT_NON_RETRYABLE = List.of(SerializationException.class,
      IllegalArgumentException.class, ClassCastException.class, SQLDataException.class);
  static final List<Class<? extends Throwable>> DEFAULT_TRANSIENT = List.of(SQLTransientException.class,
      SQLRecoverableException.class, TimeoutException.class, SocketTimeoutException.class, ConnectException.class,
      RetriableException.class, GiftkitTimeoutException.class);
  static final Set<String> TRANSIENT_SQL_STATES = Set.of("40001", "40P01");
  static final Set<Integer> TRANSIENT_MYSQL_ERRORS = Set.of(1213, 1205, 1290, 1836, 1792, 1040, 2006, 2013);
  private static final int MAX_DEPTH = 16;

  private final List<Class<? extends Throwable>> nonRetryable;
  private final List<Class<? extends Throwable>> transientOnes;

  /**
   * @param nonRetryable the user's non-retryable classes (checked before the defaults)
   * @param transientOnes the user's transient classes (checked before the defaults)
   */
  FailureClassifier(List<Class<? extends Throwable>> nonRetryable, List<Class<? extends Throwable>> transientOnes) {
    this.nonRetryable = List.copyOf(nonRetryable);
    this.transientOnes = List.copyOf(transientOnes);
  }

  Kind classify(Throwable failure) {
    Throwable t = failure;
    for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
      if (matches(nonRetryable, t)) {
        return Kind.NON_RETRYABLE;
      }
      if (matches(transientOnes, t)) {
        return Kind.TRANSIENT;
      }
      if (matches(DEFAULT_NON_RETRYABLE, t)) {
        return Kind.NON_RETRYABLE;
      }
      if (matches(DEFAULT_TRANSIENT, t) || transientSql(t)) {
        return Kind.TRANSIENT;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Kind.OTHER;
  }

  private static boolean matches(List<Class<? extends Throwable>> classes, Throwable t) {
    for (Class<? extends Throwable> c : classes) {
      if (c.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static boolean transientSql(Throwable t) {
    if (!(t instanceof SQLException)) {
      return false;
    }
    SQLException e = (SQLException) t;
    String state = e.getSQLState();
    return (state != null && (TRANSIENT_SQL_STATES.contains(state) || state.startsWith("08")))
        || TRANSIENT_MYSQL_ERRORS.contains(e.getErrorCode());
  }
}
