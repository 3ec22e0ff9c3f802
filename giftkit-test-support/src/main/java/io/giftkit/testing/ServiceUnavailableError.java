package io.giftkit.testing;

/**
 * A real service a test needs (MariaDB, Redis, Kafka) could not be reached. It is an {@link
 * AssertionError}, so the test fails: it is never skipped. The message names the service, the
 * address tried (never a password), the cause, and how to start the service or point the tests
 * elsewhere.
 */
public final class ServiceUnavailableError extends AssertionError {

  private static final long serialVersionUID = 1L;

  ServiceUnavailableError(String service, String address, String howToFix, Throwable cause) {
    super(service + " is not reachable at " + address + ": " + describe(cause) + ". " + howToFix, cause);
  }

  static ServiceUnavailableError mariaDb(String address, Throwable cause) {
    return new ServiceUnavailableError("MariaDB", address,
        "Run scripts/test, which installs (on Debian, as root) and starts MariaDB and Redis on 127.0.0.1,"
            + " or set " + MariaDbExtension.URL_ENV + ", " + MariaDbExtension.USER_ENV + " and "
            + MariaDbExtension.PASSWORD_ENV + " to a running MariaDB or MySQL 8 server.",
        cause);
  }

  static ServiceUnavailableError redis(String address, Throwable cause) {
    return new ServiceUnavailableError("Redis", address,
        "Run scripts/test, which installs (on Debian, as root) and starts MariaDB and Redis on 127.0.0.1,"
            + " or set " + RedisExtension.URL_ENV + " to a running Redis server (redis://host:port).",
        cause);
  }

  static ServiceUnavailableError kafka(String address, Throwable cause) {
    return new ServiceUnavailableError("Kafka", address,
        "Unset " + KafkaBroker.BOOTSTRAP_ENV + " to let the tests start a KRaft broker inside the JVM,"
            + " or point it at a running broker.",
        cause);
  }

  private static String describe(Throwable cause) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (sb.length() > 0) {
        sb.append(" <- ");
      }
      sb.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        sb.append(": ").append(t.getMessage());
      }
      if (sb.length() > 400) {
        break;
      }
    }
    return sb.toString();
  }
}
