package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HotKeyDetectorTest {

  private final FakeTicker ticker = new FakeTicker();

  /**
   * 2M records drawn from Zipf(1.0) over 1M distinct keys, hot = at least 0.1% of traffic (the
   * cool-down level set to the threshold itself, so the hot set is judged exactly at it): every key
   * over the threshold is found, and no key below half of it is flagged.
   */
  @Test
  void findsEveryHotKeyOfAZipfStreamAndNoColdOne() {
    HotKeyDetector<Long> detector = HotKeyDetector.<Long>builder()
        .hotWhenShareAtLeast(0.001).coolRatio(1.0).ticker(ticker).build();
    Zipf zipf = new Zipf(1_000_000, 1.0, 42);
    Map<Long, Integer> exact = new HashMap<>();
    int records = 2_000_000;
    for (int i = 0; i < records; i++) {
      long key = zipf.next();
      exact.merge(key, 1, Integer::sum);
      detector.record(key);
    }
    long threshold = (long) Math.ceil(0.001 * records);
    Set<Long> truth = exact.entrySet().stream().filter(e -> e.getValue() >= threshold)
        .map(Map.Entry::getKey).collect(Collectors.toSet());
    Set<Long> found = detector.hotKeys().stream().map(HotKey::key).collect(Collectors.toSet());

    Set<Long> truePositives = new HashSet<>(found);
    truePositives.retainAll(truth);
    double recall = (double) truePositives.size() / truth.size();
    double precision = (double) truePositives.size() / found.size();
    System.out.printf("Zipf(1.0), 1M keys, 2M records, hot >= 0.1%%: %d truly hot, %d found, precision %.4f, recall %.4f%n",
        truth.size(), found.size(), precision, recall);
    assertThat(truth).hasSizeGreaterThan(50);
    assertThat(recall).isEqualTo(1.0);
    for (Long key : found) {
      assertThat(exact.getOrDefault(key, 0)).as("key %d flagged hot", key).isGreaterThanOrEqualTo((int) (threshold / 2));
    }
    assertThat(precision).isGreaterThanOrEqualTo(0.95);
    assertThat(detector.sketchBytes()).isEqualTo(4L * 4 * 32_768);
  }

  @Test
  void memoryIsFlatAsDistinctKeysGrowTenfold() {
    HotKeyDetector<Long> detector = HotKeyDetector.<Long>builder()
        .hotWhenShareAtLeast(0.01).ticker(ticker).build();
    long sketch = detector.sketchBytes();
    for (long k = 0; k < 100_000; k++) {
      detector.record(k);
    }
    assertThat(detector.hotKeys()).isEmpty();
    for (long k = 0; k < 1_000_000; k++) {
      detector.record(1_000_000 + k);
    }
    assertThat(detector.sketchBytes()).isEqualTo(sketch);
    assertThat(detector.hotKeys()).as("uniform cold keys never become hot").isEmpty();
    assertThat(detector.promotions()).isZero();
  }

  @Test
  void aKeyThatCoolsIsDemoted() {
    List<String> events = new ArrayList<>();
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .window(Duration.ofSeconds(1), 10).hotWhenCountAtLeast(1_000).ticker(ticker)
        .listener(new HotKeyListener<>() {
          @Override
          public void onHot(String key, long estimatedCount) {
            events.add("hot:" + key + ":" + estimatedCount);
          }

          @Override
          public void onCooled(String key) {
            events.add("cooled:" + key);
          }
        }).build();
    for (int i = 0; i < 999; i++) {
      detector.record("room:1");
    }
    assertThat(detector.isHot("room:1")).isFalse();
    for (int i = 0; i < 1_001; i++) {
      detector.record("room:1");
    }
    assertThat(detector.isHot("room:1")).isTrue();
    assertThat(events).containsExactly("hot:room:1:1000");

    // 2,000 decays by 0.9 per 100 ms tick; it cools below 0.8 x 1,000 after 9 ticks (2000 * 0.9^9 = 775).
    ticker.advance(Duration.ofMillis(800));
    assertThat(detector.hotKeys()).extracting(HotKey::key).containsExactly("room:1");
    ticker.advance(Duration.ofMillis(100));
    assertThat(detector.hotKeys()).isEmpty();
    assertThat(events).containsExactly("hot:room:1:1000", "cooled:room:1");
    assertThat(detector.demotions()).isEqualTo(1);
  }

  @Test
  void clearDemotesAKeyNowAndItComesBackIfStillHot() {
    List<String> cooled = new ArrayList<>();
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .window(Duration.ofSeconds(1), 10).hotWhenCountAtLeast(100).ticker(ticker)
        .listener(new HotKeyListener<>() {
          @Override
          public void onHot(String key, long estimatedCount) {}

          @Override
          public void onCooled(String key) {
            cooled.add(key);
          }
        }).build();
    for (int i = 0; i < 100; i++) {
      detector.record("room:1");
    }
    assertThat(detector.clear("room:1")).isTrue();
    assertThat(detector.isHot("room:1")).isFalse();
    assertThat(cooled).containsExactly("room:1");
    assertThat(detector.clear("room:1")).as("no longer hot").isFalse();
    detector.record("room:1");
    assertThat(detector.isHot("room:1")).as("still as hot: promoted again").isTrue();
  }

  @Test
  void aHotKeyIsCountedApartAndItsCountGoesBackToTheSketchWhenDemoted() {
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .window(Duration.ofSeconds(1), 10).hotWhenCountAtLeast(100).ticker(ticker).build();
    for (int i = 0; i < 500; i++) {
      detector.record("room:1");
    }
    assertThat(detector.isHot("room:1")).isTrue();
    assertThat(detector.estimate("room:1")).as("exact while hot").isEqualTo(500);
    assertThat(detector.clear("room:1")).isTrue();
    assertThat(detector.estimate("room:1")).as("the sketch has the count it did not see while the key was hot")
        .isGreaterThanOrEqualTo(500);
  }

  @Test
  void aSteadyRateIsEstimatedAsItsCountOverTheWindow() {
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .window(Duration.ofSeconds(1), 10).hotWhenCountAtLeast(800).ticker(ticker).build();
    for (int tick = 0; tick < 60; tick++) {
      for (int i = 0; i < 100; i++) { // 1,000 per second
        detector.record("room:7");
      }
      ticker.advance(Duration.ofMillis(100));
    }
    detector.tick();
    assertThat(detector.estimate("room:7")).isBetween(800L, 1_000L);
    List<HotKey<String>> hot = detector.hotKeys();
    assertThat(hot).hasSize(1);
    assertThat(hot.get(0).estimatedRatePerSecond()).isBetween(800.0, 1_000.0);
  }

  @Test
  void samplingScalesEstimates() {
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .sampleOneIn(8).hotWhenCountAtLeast(50_000).ticker(ticker).build();
    for (int i = 0; i < 80_000; i++) {
      detector.record("room:9");
    }
    assertThat(detector.estimate("room:9")).isBetween(72_000L, 88_000L);
    assertThat(detector.isHot("room:9")).isTrue();
  }

  @Test
  void theHotSetIsBoundedAndKeepsTheClearlyHottest() {
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .hotWhenCountAtLeast(10).maxHotKeys(2).ticker(ticker).build();
    for (String key : List.of("a", "b")) {
      for (int i = 0; i < 10; i++) {
        detector.record(key);
      }
    }
    for (int i = 0; i < 30; i++) {
      detector.record("c");
    }
    assertThat(detector.hotKeys()).extracting(HotKey::key).hasSize(2).contains("c");
  }

  /** 8 threads hammer one hot key among cold ones: it is promoted exactly once and no count is lost. */
  @Test
  void concurrentRecordsLoseNoCountAndPromoteOnce() throws Exception {
    AtomicInteger hotEvents = new AtomicInteger();
    HotKeyDetector<String> detector = HotKeyDetector.<String>builder()
        .hotWhenCountAtLeast(10_000).ticker(ticker)
        .listener(new HotKeyListener<>() {
          @Override
          public void onHot(String key, long estimatedCount) {
            hotEvents.incrementAndGet();
          }
        }).build();
    int threads = 8;
    int perThread = 50_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < perThread; i++) {
          detector.record("room:hot");
          detector.record("cold:" + thread + ":" + i);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(detector.estimate("room:hot")).isGreaterThanOrEqualTo((long) threads * perThread);
    assertThat(hotEvents).hasValue(1);
    assertThat(detector.hotKeys()).extracting(HotKey::key).containsExactly("room:hot");
    assertThat(detector.totalInWindow()).isEqualTo(2L * threads * perThread);
  }

  @Test
  void badSettingsAreNamed() {
    assertThatThrownBy(() -> HotKeyDetector.builder().hotWhenShareAtLeast(0))
        .hasMessage("hotShare must be in (0, 1], but was 0.0");
    assertThatThrownBy(() -> HotKeyDetector.builder().hotWhenCountAtLeast(0))
        .hasMessage("hotCount must be > 0, but was 0");
    assertThatThrownBy(() -> HotKeyDetector.builder().sampleOneIn(3))
        .hasMessage("sampleOneIn must be a power of two, but was 3");
    assertThatThrownBy(() -> HotKeyDetector.builder().sketch(4, 1000))
        .hasMessage("width must be a power of two, but was 1000");
    assertThatThrownBy(() -> HotKeyDetector.builder().window(Duration.ofNanos(10), 3).build())
        .hasMessage("ticks must divide window (10ns) into whole nanoseconds, but was 3");
    assertThatThrownBy(() -> HotKeyDetector.<String>builder().build().record(null))
        .isInstanceOf(NullPointerException.class).hasMessage("key");
  }
}
