package io.giftkit.coord;

import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Service instances registered by a process of their own, so {@code ServiceDiscoveryTest} can kill it
 * with {@code SIGKILL} and watch the instances vanish when their lease ends. Arguments: etcd endpoint,
 * lease TTL in seconds, service, site, then instance ids (address {@code <id>.example:8080}). Prints
 * {@code REGISTERED} once all are registered, then waits to be killed.
 */
public final class RegisteredInstances {

  private RegisteredInstances() {}

  /**
   * @param args etcd endpoint, TTL seconds, service, site, instance ids
   * @throws Exception whatever fails: the process exits non-zero with the stack trace in its log
   */
  public static void main(String[] args) throws Exception {
    try (Client client = Client.builder().endpoints(args[0]).build();
        ServiceRegistry registry = ServiceRegistry.builder(client)
            .leaseTtl(Duration.ofSeconds(Long.parseLong(args[1]))).build()) {
      for (int i = 4; i < args.length; i++) {
        registry.register(ServiceInstance.of(args[2], args[3], args[i], args[i] + ".example:8080", Map.of()));
      }
      System.out.println("REGISTERED");
      new CountDownLatch(1).await(); // until killed
    }
  }
}
