package io.giftkit.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The bounded table of recent writers behind read-your-writes, on a fake ticker. */
class RecentWritersTest {

  static final long WINDOW = Duration.ofSeconds(2).toNanos();

  final AtomicLong time = new AtomicLong(-5_000); // System.nanoTime() may be negative too

  @Test
  void aWriterIsRecentForTheWindowAndThenNot() {
    RecentWriters recent = new RecentWriters(WINDOW, 16, time::get);
    long uid = 42;
    assertThat(recent.recent(uid, time.get())).as("before any write").isFalse();
    recent.wrote(uid);
    assertThat(recent.recent(uid, time.get())).isTrue();
    assertThat(recent.recent(uid, time.get() + WINDOW - 1)).isTrue();
    assertThat(recent.recent(uid, time.get() + WINDOW)).as("the window has passed").isFalse();

    time.addAndGet(WINDOW / 2);
    recent.wrote(uid); // a second write extends the window from itself
    assertThat(recent.recent(uid, time.get() + WINDOW - 1)).isTrue();
    assertThat(recent.recent(uid, time.get() + WINDOW)).isFalse();
  }

  @Test
  void twoWritersInOneSlotShareItUntilTheLaterDeadlineAndAnotherSlotIsUntouched() {
    RecentWriters recent = new RecentWriters(WINDOW, 16, time::get);
    long a = 1;
    long b = sameSlotAs(recent, a);
    long elsewhere = otherSlotThan(recent, a);
    recent.wrote(a);
    assertThat(recent.recent(b, time.get())).as("b never wrote and has a slot holding only a").isFalse();
    assertThat(recent.recent(elsewhere, time.get())).isFalse();

    time.addAndGet(WINDOW / 2);
    recent.wrote(b); // a's deadline is still ahead: the slot is shared, a must not be forgotten
    assertThat(recent.recent(a, time.get())).as("no false negative for a").isTrue();
    assertThat(recent.recent(b, time.get())).isTrue();
    assertThat(recent.recent(a, time.get() + WINDOW - 1)).as("shared until the later deadline (b's)").isTrue();
    assertThat(recent.recent(elsewhere, time.get())).as("other slots are not affected").isFalse();
    assertThat(recent.recent(a, time.get() + WINDOW)).isFalse();

    time.addAndGet(WINDOW); // everything expired: the slot becomes the next writer's alone
    recent.wrote(b);
    assertThat(recent.recent(a, time.get())).isFalse();
    assertThat(recent.recent(b, time.get())).isTrue();
  }

  @Test
  void underContentionNoWriterIsEverMissed() throws Exception {
    RecentWriters recent = new RecentWriters(WINDOW, 1024, time::get); // many uids per slot: heavy sharing
    int threads = 8;
    int writes = 200_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Long>> missed = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        missed.add(pool.submit(() -> {
          go.await();
          long misses = 0;
          ThreadLocalRandom random = ThreadLocalRandom.current();
          for (int i = 0; i < writes; i++) {
            long uid = random.nextLong(1, 1_000_000);
            recent.wrote(uid);
            if (!recent.recent(uid, time.get())) {
              misses++;
            }
          }
          return misses;
        }));
      }
      go.countDown();
      long total = 0;
      for (Future<Long> f : missed) {
        total += f.get();
      }
      assertThat(total).as("a uid read right after its write, while 7 other threads write").isZero();
    } finally {
      pool.shutdownNow();
    }
  }

  static long sameSlotAs(RecentWriters recent, long uid) {
    for (long other = uid + 1; ; other++) {
      if (recent.index(other) == recent.index(uid)) {
        return other;
      }
    }
  }

  static long otherSlotThan(RecentWriters recent, long uid) {
    for (long other = uid + 1; ; other++) {
      if (recent.index(other) != recent.index(uid)) {
        return other;
      }
    }
  }
}
