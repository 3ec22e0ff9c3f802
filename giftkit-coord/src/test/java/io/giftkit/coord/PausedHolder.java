package io.giftkit.coord;

import io.etcd.jetcd.Client;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;

/**
 * A lock holder run as its own process by {@code EtcdLockTest}, so the test can freeze it with
 * {@code SIGSTOP}: it takes the lock, then keeps writing one row fenced with its token, printing each
 * outcome, until the database refuses a write. Arguments: etcd endpoint, JDBC URL, user; the password
 * comes from the environment ({@code GIFTKIT_MYSQL_PASSWORD}), never the command line (which is logged).
 */
public final class PausedHolder {

  private PausedHolder() {}

  /**
   * @param args etcd endpoint, JDBC URL, user
   * @throws Exception whatever fails: the process exits non-zero with the stack trace in its log
   */
  public static void main(String[] args) throws Exception {
    try (Client client = Client.builder().endpoints(args[0]).build();
        EtcdLocks locks = EtcdLocks.builder(client).leaseTtl(Duration.ofSeconds(2)).build();
        Connection db = DriverManager.getConnection(args[1], args[2], System.getenv("GIFTKIT_MYSQL_PASSWORD"))) {
      EtcdLock lock = locks.tryLock("paused-process", Duration.ofSeconds(20)).orElseThrow();
      lock.whenLost((l, why) -> System.out.println("LOST " + why));
      System.out.println("HOLDING " + lock.fencingToken());
      for (long i = 1; ; i++) {
        int rows = FencedWrite.update(db, "ledger", "fence", "writer = ?, seq = ?", "id = 1", lock, "paused", i);
        System.out.println("WROTE " + i + " rows=" + rows);
        if (rows == 0) {
          System.out.println("REFUSED " + i);
          return;
        }
        Thread.sleep(100); // the pace of the holder's work; the test never waits on it by time
      }
    }
  }
}
