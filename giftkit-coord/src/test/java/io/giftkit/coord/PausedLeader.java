package io.giftkit.coord;

import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A leader run as its own process by {@code EtcdElectionTest}, so the test can freeze it with
 * {@code SIGSTOP}: it campaigns with a 2 s lease, prints {@code LEADING <token>}, and once its
 * leadership is lost prints {@code LOST <reason>} and exits. Argument: the etcd endpoint.
 */
public final class PausedLeader {

  private PausedLeader() {}

  /**
   * @param args the etcd endpoint
   * @throws Exception whatever fails: the process exits non-zero with the stack trace in its log
   */
  public static void main(String[] args) throws Exception {
    try (Client client = Client.builder().endpoints(args[0]).build();
        EtcdElections elections = EtcdElections.builder(client).leaseTtl(Duration.ofSeconds(2)).build()) {
      Leadership lead = elections.campaign("frozen", "child", Duration.ofSeconds(20)).orElseThrow();
      CountDownLatch lost = new CountDownLatch(1);
      lead.whenLost((l, why) -> {
        System.out.println("LOST " + why);
        lost.countDown();
      });
      System.out.println("LEADING " + lead.token());
      lost.await();
    }
  }
}
