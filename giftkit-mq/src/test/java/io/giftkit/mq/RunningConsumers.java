package io.giftkit.mq;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The consumers a test started, closed after each test whatever its outcome. Register it as an
 * instance field: {@code @RegisterExtension final RunningConsumers running = new RunningConsumers();}.
 */
final class RunningConsumers implements AfterEachCallback {

  private final List<GiftkitConsumer<?, ?>> consumers = new CopyOnWriteArrayList<>();

  /** Starts {@code consumer}, to be closed after the test. */
  <K, V> GiftkitConsumer<K, V> start(GiftkitConsumer<K, V> consumer) {
    consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  /** Closes {@code consumer} after the test (one the test starts itself). */
  <K, V> GiftkitConsumer<K, V> closeAfter(GiftkitConsumer<K, V> consumer) {
    consumers.add(consumer);
    return consumer;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    consumers.forEach(GiftkitConsumer::close);
    consumers.clear();
  }
}
