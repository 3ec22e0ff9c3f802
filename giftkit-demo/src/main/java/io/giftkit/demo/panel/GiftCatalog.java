package io.giftkit.demo.panel;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The gift catalogue, preloaded into memory at start-up and refreshed every
 * {@code giftkit.demo.catalog-refresh} (the reference platform preloads all gift data, so the panel
 * never waits for it). A refresh that fails keeps the catalogue in memory and is logged.
 */
@Component
public class GiftCatalog implements DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(GiftCatalog.class);

  private final CatalogSource source;
  private final ScheduledExecutorService refresher;
  private final AtomicLong refreshes = new AtomicLong();
  private volatile List<Gift> gifts;

  public GiftCatalog(CatalogSource source, @Value("${giftkit.demo.catalog-refresh:60s}") Duration every) {
    this.source = source;
    this.gifts = List.copyOf(source.load()); // at start-up the catalogue must load: no panel without it
    this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gift-catalog-refresh");
      t.setDaemon(true);
      return t;
    });
    refresher.scheduleWithFixedDelay(this::refresh, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Reloads the catalogue; on failure the one in memory stays. */
  public void refresh() {
    try {
      gifts = List.copyOf(source.load());
      refreshes.incrementAndGet();
    } catch (RuntimeException e) {
      LOG.warn("refreshing the gift catalogue failed ({}); keeping the {} gifts in memory", e.toString(), gifts.size());
    }
  }

  /**
   * @param roomId the room
   * @return the gifts on its panel
   */
  public List<Gift> forRoom(long roomId) {
    return gifts;
  }

  /**
   * @param giftId a gift's id
   * @return the gift, if the catalogue has it
   */
  public Optional<Gift> find(long giftId) {
    return gifts.stream().filter(g -> g.id() == giftId).findFirst();
  }

  /** @return successful refreshes since start-up */
  public long refreshes() {
    return refreshes.get();
  }

  @Override
  public void destroy() {
    refresher.shutdownNow();
  }
}
