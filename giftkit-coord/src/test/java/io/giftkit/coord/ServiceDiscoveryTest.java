package io.giftkit.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.giftkit.core.Site;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ManagedProcess;
import io.giftkit.testing.process.ProcessRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ServiceRegistry} and {@link ServiceResolver} against a real one-member etcd of the test's own. */
class ServiceDiscoveryTest {

  private static final Site A = Site.of("a");
  private static final Site B = Site.of("b");

  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static EtcdCluster etcd;
  private static Client clientA;
  private static Client clientB;

  @BeforeAll
  static void startEtcd() {
    registry = new ProcessRegistry();
    etcd = new EtcdCluster(registry, dir, 1);
    etcd.start(Duration.ofSeconds(30));
    clientA = Client.builder().endpoints(etcd.clientUrl(0)).build();
    clientB = Client.builder().endpoints(etcd.clientUrl(0)).build();
  }

  @AfterAll
  static void stopEtcd() {
    clientA.close();
    clientB.close();
    etcd.close();
    registry.close();
    assertThat(registry.survivors()).as("etcd and instance processes left behind").isEmpty();
  }

  private static List<String> ids(ServiceResolver resolver, Site site) {
    return resolver.instances().getOrDefault(site, List.of()).stream().map(ServiceInstance::instanceId).toList();
  }

  /**
   * Site a's two instances run in a process of their own (3 s lease), site b's one in this one. A
   * resolver in site a chooses only a's instances, alternating between them; one in site b only b's.
   * The process is killed with SIGKILL (no deregistration): within the 3 s TTL (plus etcd's expiry
   * tick and the watch) the site-a resolver falls back to b.
   */
  @Test
  void theResolverPrefersItsSiteRoundRobinAndFallsBackWhenTheLocalInstancesDie() throws Exception {
    Duration ttl = Duration.ofSeconds(3);
    List<Map<Site, List<ServiceInstance>>> changes = new ArrayList<>();
    try (ServiceRegistry registryB = ServiceRegistry.builder(clientB).build()) {
      Map<String, String> meta = Map.of("version", "1.4", "odd=key", "line\nbreak 100%");
      ServiceInstance b1 = ServiceInstance.of("gift-api", "b", "b1", "10.0.1.1:8080", meta);
      registryB.register(b1);
      try (ServiceResolver inA = ServiceResolver.builder(clientA, "gift-api", A).start()
              .addListener((service, now) -> {
                synchronized (changes) {
                  changes.add(now);
                }
              });
          ServiceResolver inB = ServiceResolver.builder(clientB, "gift-api", B).start()) {
        assertThat(inA.choose()).as("only b so far: the fallback").contains(b1);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ManagedProcess siteA = new ManagedProcess(registry, "site-a-instances",
            List.of(java, "-cp", System.getProperty("java.class.path"), RegisteredInstances.class.getName(),
                etcd.clientUrl(0), Long.toString(ttl.toSeconds()), "gift-api", "a", "a1", "a2"),
            Map.of(), dir.resolve("site-a-instances.log"));
        siteA.start();
        try {
          await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(siteA.log()).contains("REGISTERED"));
          await().atMost(Duration.ofSeconds(5)).until(() -> ids(inA, A).equals(List.of("a1", "a2")));
          assertThat(inA.instances().keySet()).containsExactly(A, B);
          assertThat(inA.instances().get(B)).containsExactly(b1);
          assertThat(inA.instances().get(B).get(0).metadata()).isEqualTo(meta);

          List<String> chosen = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            chosen.add(inA.choose().orElseThrow().instanceId());
          }
          assertThat(chosen).containsOnly("a1", "a2");
          for (int i = 1; i < chosen.size(); i++) {
            assertThat(chosen.get(i)).as("round robin: %s", chosen).isNotEqualTo(chosen.get(i - 1));
          }
          await().atMost(Duration.ofSeconds(5)).until(() -> ids(inB, A).size() == 2);
          for (int i = 0; i < 3; i++) {
            assertThat(inB.choose()).as("site b's resolver keeps to b").contains(b1);
          }

          siteA.kill();
          long killed = System.nanoTime();
          await().atMost(ttl.plusSeconds(3)).pollInterval(Duration.ofMillis(20))
              .until(() -> inA.choose().orElseThrow().equals(b1));
          long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
          assertThat(elapsedMillis).as("fallback after the kill, ms").isLessThan(ttl.plusSeconds(3).toMillis());
          System.out.println("FALLBACK to site b " + elapsedMillis + " ms after the SIGKILL (lease TTL " + ttl.toMillis()
              + " ms)");
          await().atMost(Duration.ofSeconds(2)).until(() -> ids(inA, A).isEmpty());
          for (int i = 0; i < 3; i++) {
            assertThat(inA.choose()).contains(b1);
          }
          synchronized (changes) {
            assertThat(changes).as("each registration and each vanishing was heard").hasSizeGreaterThanOrEqualTo(4);
            assertThat(changes.get(changes.size() - 1)).containsOnlyKeys(B);
          }
        } finally {
          siteA.kill();
        }
      }
    }
  }

  /**
   * Closing a registration deletes the key at once (not after its 60 s lease); a key under the service
   * that does not hold an instance is skipped and counted.
   */
  @Test
  void closingARegistrationDeregistersAtOnceAndStrayKeysAreSkipped() throws Exception {
    try (ServiceRegistry reg = ServiceRegistry.builder(clientB).leaseTtl(Duration.ofSeconds(60)).build();
        ServiceResolver resolver = ServiceResolver.builder(clientA, "settle", A).start()) {
      ServiceRegistration r = reg.register(ServiceInstance.of("settle", "a", "s1", "10.0.0.1:9000", Map.of()));
      assertThat(r.key()).isEqualTo("giftkit/services/settle/a/s1");
      assertThat(r.isRegistered()).isTrue();
      assertThat(reg.registrations()).containsExactly(r);
      await().atMost(Duration.ofSeconds(5)).until(() -> ids(resolver, A).equals(List.of("s1")));
      clientB.getKVClient().put(Etcd.bytes("giftkit/services/settle/a/stray"), Etcd.bytes("not an instance"))
          .get(5, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(5)).until(() -> resolver.malformedEntries() == 1);
      assertThat(ids(resolver, A)).containsExactly("s1");

      r.close();
      assertThat(r.isRegistered()).isFalse();
      assertThat(reg.registrations()).isEmpty();
      await().atMost(Duration.ofSeconds(5)).until(() -> resolver.choose().isEmpty());
    }
  }

  /** An instance whose lease is revoked from elsewhere vanishes, then is registered again under a new lease. */
  @Test
  void anInstanceThatLostItsLeaseIsRegisteredAgain() throws Exception {
    try (ServiceRegistry reg = ServiceRegistry.builder(clientB).leaseTtl(Duration.ofSeconds(2)).build();
        ServiceResolver resolver = ServiceResolver.builder(clientA, "again", A).start()) {
      ServiceRegistration r = reg.register(ServiceInstance.of("again", "a", "x1", "10.0.0.9:80", Map.of()));
      CountDownLatch vanished = new CountDownLatch(1);
      resolver.addListener((s, now) -> {
        if (now.isEmpty()) {
          vanished.countDown();
        }
      });
      long lease = clientA.getKVClient().get(Etcd.bytes(r.key())).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease();
      clientA.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
      assertThat(vanished.await(10, TimeUnit.SECONDS)).as("the instance vanished with its lease").isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> r.reRegistrations() == 1 && ids(resolver, A).equals(List.of("x1")));
      assertThat(r.isRegistered()).isTrue();
      long newLease = clientA.getKVClient().get(Etcd.bytes(r.key())).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease();
      assertThat(newLease).isNotEqualTo(lease);
    }
  }

  /**
   * Eight threads choose while instances in sites a and b come and go (one site-a instance stays):
   * no call fails or returns empty, every answer is a site-a instance (local first holds), and none is
   * an instance whose removal the resolver had published before the call began. Then, with three
   * stable site-a instances, 24,000 concurrent choices split exactly 8,000 each.
   */
  @Test
  void manyThreadsChooseWhileMembershipChanges() throws Exception {
    AtomicLong published = new AtomicLong();
    Map<String, Long> removedAt = new ConcurrentHashMap<>();
    Set<String> everRegistered = ConcurrentHashMap.newKeySet();
    Set<String> lastSeen = new HashSet<>();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (ServiceRegistry reg = ServiceRegistry.builder(clientB).build()) {
      everRegistered.add("a-stable");
      reg.register(ServiceInstance.of("churn", "a", "a-stable", "10.0.0.1:1", Map.of()));
      try (ServiceResolver resolver = ServiceResolver.builder(clientA, "churn", A).start()) {
        resolver.addListener((s, now) -> {
          Set<String> ids = now.values().stream().flatMap(List::stream).map(ServiceInstance::instanceId)
              .collect(Collectors.toSet());
          for (String gone : lastSeen) {
            if (!ids.contains(gone)) {
              removedAt.put(gone, published.get() + 1);
            }
          }
          lastSeen.clear();
          lastSeen.addAll(ids);
          published.incrementAndGet();
        });
        AtomicBoolean churning = new AtomicBoolean(true);
        Queue<String> violations = new ConcurrentLinkedQueue<>();
        Set<String> chosenChurned = ConcurrentHashMap.newKeySet();
        List<Future<Long>> choosers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          choosers.add(pool.submit(() -> {
            long calls = 0;
            while (churning.get()) {
              long before = published.get();
              ServiceInstance c = resolver.choose().orElse(null);
              calls++;
              if (c == null) {
                violations.add("empty");
              } else {
                if (!c.site().equals(A)) {
                  violations.add("remote " + c.instanceId() + " while a-stable lives");
                }
                if (!everRegistered.contains(c.instanceId())) {
                  violations.add("never registered " + c.instanceId());
                }
                Long removed = removedAt.get(c.instanceId());
                if (removed != null && removed <= before) {
                  violations.add(c.instanceId() + " removed at view " + removed + ", chosen in a call begun at " + before);
                }
                if (!c.instanceId().equals("a-stable")) {
                  chosenChurned.add(c.instanceId());
                }
              }
            }
            return calls;
          }));
        }
        Queue<ServiceRegistration> live = new ArrayDeque<>();
        for (int i = 0; i < 120; i++) {
          String site = i % 2 == 0 ? "a" : "b";
          String id = site + "-churn-" + i;
          everRegistered.add(id);
          live.add(reg.register(ServiceInstance.of("churn", site, id, "10.0.0." + (i % 250) + ":2", Map.of())));
          if (live.size() > 3) {
            live.remove().close();
          }
        }
        churning.set(false);
        long calls = 0;
        for (Future<Long> f : choosers) {
          calls += f.get(30, TimeUnit.SECONDS);
        }
        assertThat(violations).isEmpty();
        assertThat(calls).isGreaterThan(1000);
        assertThat(published.get()).as("views published during the churn").isGreaterThan(200);
        assertThat(chosenChurned).as("instances that joined were chosen too").isNotEmpty();

        while (!live.isEmpty()) {
          live.remove().close();
        }
        everRegistered.add("a-stable-2");
        everRegistered.add("a-stable-3");
        reg.register(ServiceInstance.of("churn", "a", "a-stable-2", "10.0.0.2:1", Map.of()));
        reg.register(ServiceInstance.of("churn", "a", "a-stable-3", "10.0.0.3:1", Map.of()));
        await().atMost(Duration.ofSeconds(5)).until(() -> resolver.instances().keySet().equals(Set.of(A))
            && ids(resolver, A).equals(List.of("a-stable", "a-stable-2", "a-stable-3")));
        Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
        List<Future<?>> even = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          even.add(pool.submit(() -> {
            for (int i = 0; i < 3000; i++) {
              counts.computeIfAbsent(resolver.choose().orElseThrow().instanceId(), k -> new AtomicLong()).incrementAndGet();
            }
          }));
        }
        for (Future<?> f : even) {
          f.get(30, TimeUnit.SECONDS);
        }
        assertThat(counts).hasSize(3);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(8000));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void badInputIsNamedWithItsValue() {
    assertThatThrownBy(() -> ServiceInstance.of(" ", "a", "i1", "h:1", Map.of()))
        .hasMessage("service must be 1 to 64 characters of letters, digits, '.', '_' or '-', starting with a letter"
            + " or digit, but was \" \"");
    assertThatThrownBy(() -> ServiceInstance.of("svc", "", "i1", "h:1", Map.of()))
        .hasMessageStartingWith("site must be 1 to 32 characters").hasMessageEndingWith("but was \"\"");
    assertThatThrownBy(() -> ServiceInstance.of("svc", "a", "i/1", "h:1", Map.of()))
        .hasMessageStartingWith("instanceId must be").hasMessageEndingWith("but was \"i/1\"");
    assertThatThrownBy(() -> ServiceInstance.of("svc", "a", "i1", " ", Map.of()))
        .hasMessage("address must not be blank, but was \" \"");
    assertThatThrownBy(() -> ServiceInstance.of("svc", "a", "i1", "h:1", Map.of("", "v")))
        .hasMessage("metadata key must not be blank, but was \"\"");
    assertThatThrownBy(() -> new ServiceInstance("svc", null, "i1", "h:1", Map.of()))
        .hasMessage("site must not be null, but was null");
    assertThatThrownBy(() -> ServiceResolver.builder(clientA, "", A))
        .hasMessageStartingWith("service must be").hasMessageEndingWith("but was \"\"");
    assertThatThrownBy(() -> ServiceResolver.builder(clientA, "svc", null))
        .hasMessage("localSite must not be null, but was null");
    assertThatThrownBy(() -> ServiceRegistry.builder(clientA).keyPrefix("giftkit/"))
        .hasMessage("keyPrefix must not end with '/', but was \"giftkit/\"");
    assertThatThrownBy(() -> ServiceRegistry.builder(clientA).keyPrefix(" "))
        .hasMessage("keyPrefix must not be blank, but was \" \"");
    assertThatThrownBy(() -> ServiceRegistry.builder(clientA).leaseTtl(Duration.ofSeconds(1)))
        .hasMessage("leaseTtl must be whole seconds, at least 2s, but was 1s");
    try (ServiceRegistry reg = ServiceRegistry.builder(clientA).build()) {
      assertThatThrownBy(() -> reg.register(null)).hasMessage("instance must not be null, but was null");
    }
  }

  /** The value format keeps any address and metadata text, escapes included. */
  @Test
  void theValueFormatRoundTrips() {
    ServiceInstance odd = ServiceInstance.of("svc", "a", "i1", "h=1%\r\n", Map.of("k=%\n", "=v%0A", "plain", ""));
    ServiceInstance back = InstanceCodec.decode("svc", "a/i1", InstanceCodec.value(odd));
    assertThat(back).isEqualTo(odd);
    assertThatThrownBy(() -> InstanceCodec.decode("svc", "a/i1", "address=x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> InstanceCodec.decode("svc", "a/i1", "v=1\naddress=x%4")).isInstanceOf(IllegalArgumentException.class);
  }

  /** The README's discovery example, compiled and run. */
  @Test
  void theReadmeExample() {
    Client client = clientA;
    // README: discovery
    ServiceRegistry registry = ServiceRegistry.builder(client).leaseTtl(Duration.ofSeconds(10)).build();
    ServiceRegistration me = registry.register(
        ServiceInstance.of("gift-api", "a", "10.0.0.7:8080", "10.0.0.7:8080", Map.of("version", "1.4")));

    ServiceResolver giftApi = ServiceResolver.builder(client, "gift-api", Site.of("a")).start();
    ServiceInstance target = giftApi.choose().orElseThrow(); // site a's instances in turn; others only if a has none

    giftApi.close();
    me.close();                                              // deregisters at once
    registry.close();
    // end README
    assertThat(target.instanceId()).isEqualTo("10.0.0.7:8080");
    assertThat(target.metadata()).containsEntry("version", "1.4");
  }
}
