package io.giftkit.coord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.giftkit.testing.process.EtcdCluster;
import io.giftkit.testing.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ConsistentKv#watch} and {@link ConsistentKv#watchPrefix} against a real one-member etcd of the test's own. */
class KvWatchTest {

  @TempDir static Path dir;

  private static ProcessRegistry registry;
  private static EtcdCluster etcd;
  private static Client watcherClient;
  private static Client writerClient;

  @BeforeAll
  static void startEtcd() {
    registry = new ProcessRegistry();
    etcd = new EtcdCluster(registry, dir, 1);
    etcd.start(Duration.ofSeconds(30));
    watcherClient = Client.builder().endpoints(etcd.clientUrl(0)).build();
    writerClient = Client.builder().endpoints(etcd.clientUrl(0)).build();
  }

  @AfterAll
  static void stopEtcd() {
    watcherClient.close();
    writerClient.close();
    etcd.close();
    registry.close();
    assertThat(registry.survivors()).as("etcd processes left behind").isEmpty();
  }

  private static ConsistentKv kv(Client client, String prefix) {
    return ConsistentKv.builder(client).keyPrefix(prefix).timeout(Duration.ofSeconds(3)).build();
  }

  private static KvEvent next(BlockingQueue<KvEvent> events) throws InterruptedException {
    KvEvent e = events.poll(10, TimeUnit.SECONDS);
    assertThat(e).as("an event within 10 s").isNotNull();
    return e;
  }

  /**
   * Another client puts a key twice and deletes it: the watch hears the three changes in order, each
   * with the revision the writer got. After close(), a further put reaches a second watch but not the
   * closed one.
   */
  @Test
  void aWatchSeesPutsAndADeleteByAnotherClientInOrderAndNothingAfterClose() throws Exception {
    ConsistentKv watcher = kv(watcherClient, "w1/");
    ConsistentKv writer = kv(writerClient, "w1/");
    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    BlockingQueue<KvEvent> witness = new LinkedBlockingQueue<>();
    try (KvWatch other = watcher.watch("room:42:owner", 0, witness::add)) {
      KvWatch watch = watcher.watch("room:42:owner", 0, events::add);
      long r1 = writer.put("room:42:owner", "site-a");
      writer.put("room:43:owner", "not watched");
      long r2 = writer.put("room:42:owner", "site-b");
      assertThat(writer.delete("room:42:owner")).isTrue();
      long r3 = writer.get("room:42:owner", Consistency.LINEARIZABLE).revision(); // nothing written since the delete

      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "room:42:owner", "site-a", r1));
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "room:42:owner", "site-b", r2));
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.DELETE, "room:42:owner", "", r3));
      assertThat(watch.nextRevision()).isEqualTo(r3 + 1);
      assertThat(watch.errors()).isZero();

      watch.close();
      assertThat(watch.isClosed()).isTrue();
      long r4 = writer.put("room:42:owner", "site-c");
      for (int i = 0; i < 3; i++) {
        next(witness); // the three changes above
      }
      assertThat(next(witness).revision()).as("the open watch hears the put after close").isEqualTo(r4);
      assertThat(events).as("the closed watch hears nothing more").isEmpty();
    }
  }

  /** A watch from a past revision replays the history from there; a prefix watch sees every key under it. */
  @Test
  void aPrefixWatchFromAPastRevisionReplaysTheHistory() throws Exception {
    ConsistentKv writer = kv(writerClient, "w2/");
    long r1 = writer.put("gift:1", "rose");
    long r2 = writer.put("gift:2", "rocket");
    writer.put("other", "not watched");
    long r3 = writer.put("gift:1", "rose-v2");
    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    try (KvWatch watch = kv(watcherClient, "w2/").watchPrefix("gift:", r1, events::add)) {
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "gift:1", "rose", r1));
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "gift:2", "rocket", r2));
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "gift:1", "rose-v2", r3));
      long r4 = writer.put("gift:3", "castle");
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "gift:3", "castle", r4));
    }
  }

  /**
   * The revisions a watch asks for were compacted away: it tells the listener (with the compact
   * revision), hands it the key's current content read afresh, and goes on with the changes after that
   * read; the compaction is counted.
   */
  @Test
  void aWatchFromACompactedRevisionReReadsAndGoesOn() throws Exception {
    ConsistentKv writer = kv(writerClient, "w3/");
    long r1 = writer.put("balance", "1");
    writer.put("balance", "2");
    long r3 = writer.put("balance", "3");
    writerClient.getKVClient().compact(r3).get(5, TimeUnit.SECONDS);

    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    BlockingQueue<List<Object>> resets = new LinkedBlockingQueue<>();
    ConsistentKv watcher = kv(watcherClient, "w3/");
    long compactionsBefore = watcher.watchCompactions();
    try (KvWatch watch = watcher.watch("balance", r1, new KvWatchListener() {
      @Override
      public void onEvent(KvEvent event) {
        events.add(event);
      }

      @Override
      public void onCompacted(long compactRevision, List<KvEntry> current, long revision) {
        resets.add(List.of(compactRevision, current, revision));
      }
    })) {
      List<Object> reset = resets.poll(10, TimeUnit.SECONDS);
      assertThat(reset).as("told of the compaction").isNotNull();
      assertThat(reset.get(0)).isEqualTo(r3);
      @SuppressWarnings("unchecked")
      List<KvEntry> current = (List<KvEntry>) reset.get(1);
      assertThat(current).extracting(KvEntry::key, KvEntry::value, KvEntry::modRevision)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("balance", "3", r3));
      assertThat((Long) reset.get(2)).isGreaterThanOrEqualTo(r3);
      assertThat(events).as("nothing replayed from before the compaction").isEmpty();

      long r4 = writer.put("balance", "4");
      assertThat(next(events)).isEqualTo(new KvEvent(KvEvent.Type.PUT, "balance", "4", r4));
      assertThat(watch.compactions()).isEqualTo(1);
      assertThat(watcher.watchCompactions()).isEqualTo(compactionsBefore + 1);
      assertThat(watch.errors()).isEqualTo(1);
    }
  }

  /** A listener that throws is logged and ignored: it still hears the next change. */
  @Test
  void aThrowingListenerDoesNotStopTheWatch() throws Exception {
    ConsistentKv writer = kv(writerClient, "w4/");
    List<Long> seen = new ArrayList<>();
    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    try (KvWatch watch = kv(watcherClient, "w4/").watch("k", 0, e -> {
      events.add(e);
      synchronized (seen) {
        seen.add(e.revision());
      }
      throw new IllegalStateException("listener bug");
    })) {
      long r1 = writer.put("k", "1");
      long r2 = writer.put("k", "2");
      assertThat(next(events).revision()).isEqualTo(r1);
      assertThat(next(events).revision()).isEqualTo(r2);
      assertThat(watch.errors()).isZero();
    }
  }

  /** A listener may close its own watch: the call in progress finishes, nothing follows. */
  @Test
  void aListenerMayCloseItsOwnWatch() throws Exception {
    ConsistentKv writer = kv(writerClient, "w6/");
    BlockingQueue<KvEvent> events = new LinkedBlockingQueue<>();
    BlockingQueue<KvEvent> witness = new LinkedBlockingQueue<>();
    KvWatch[] self = new KvWatch[1];
    try (KvWatch other = kv(watcherClient, "w6/").watch("k", 0, witness::add)) {
      synchronized (self) {
        self[0] = kv(watcherClient, "w6/").watch("k", 0, e -> {
          events.add(e);
          synchronized (self) {
            self[0].close();
          }
        });
      }
      long r1 = writer.put("k", "1");
      long r2 = writer.put("k", "2");
      assertThat(next(events).revision()).isEqualTo(r1);
      assertThat(next(witness).revision()).isEqualTo(r1);
      assertThat(next(witness).revision()).isEqualTo(r2);
      assertThat(events).isEmpty();
      assertThat(self[0].isClosed()).isTrue();
    }
  }

  @Test
  void badArgumentsAreNamedWithTheirValue() {
    ConsistentKv kv = kv(watcherClient, "w5/");
    assertThatThrownBy(() -> kv.watch(" ", 0, e -> { })).hasMessage("key must not be blank, but was \" \"");
    assertThatThrownBy(() -> kv.watch("k", -1, e -> { })).hasMessage("fromRevision must be >= 0, but was -1");
    assertThatThrownBy(() -> kv.watch("k", 0, null)).hasMessage("listener must not be null, but was null");
    assertThatThrownBy(() -> kv.watchPrefix(null, 0, e -> { })).hasMessage("prefix must not be null, but was null");
  }

  /** The README's watch example, compiled and run. */
  @Test
  void theReadmeExample() throws Exception {
    Client client = watcherClient;
    Map<Long, String> owners = new ConcurrentHashMap<>();
    ConsistentKv writer = kv(writerClient, "gift/");
    writer.put("room:42:owner", "site-a");
    // README: watch
    ConsistentKv kv = ConsistentKv.builder(client).keyPrefix("gift/").build();
    KvRead now = kv.get("room:42:owner", Consistency.LINEARIZABLE);
    now.entry().ifPresent(e -> owners.put(42L, e.value()));
    KvWatch watch = kv.watch("room:42:owner", now.revision() + 1, event -> {
      if (event.type() == KvEvent.Type.PUT) {
        owners.put(42L, event.value());      // every change after the read, in order, each once
      } else {
        owners.remove(42L);
      }
    });
    // end README
    assertThat(owners).containsEntry(42L, "site-a");
    writer.put("room:42:owner", "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> "site-b".equals(owners.get(42L)));
    writer.delete("room:42:owner");
    await().atMost(Duration.ofSeconds(10)).until(() -> !owners.containsKey(42L));
    watch.close();
  }
}
