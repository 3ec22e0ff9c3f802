package io.giftkit.demo.panel;

import io.giftkit.breaker.BreakerRegistry;
import io.giftkit.breaker.BreakerResult;
import io.giftkit.breaker.LatencyBreaker;
import io.giftkit.core.Checks;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/rooms/{roomId}/panel?uid=…}: the room's catalogue plus the user's privileged
 * gifts, which come through a {@link LatencyBreaker} (budget, failure-rate breaker, per-uid last
 * good value). The answer says whether the privileged part is fresh, cached or defaulted.
 */
@RestController
public class PanelController {

  private final GiftCatalog catalog;
  private final PrivilegedGiftService privilegedService;
  private final LatencyBreaker<List<Gift>> privileged;

  public PanelController(GiftCatalog catalog, PrivilegedGiftService privilegedService, BreakerRegistry breakers) {
    this.catalog = catalog;
    this.privilegedService = privilegedService;
    this.privileged = breakers.latencyBreaker("privileged-gifts", List.of());
  }

  /**
   * The panel.
   *
   * @param roomId whose catalogue
   * @param gifts the catalogue
   * @param privileged the user's privileged gifts
   * @param privilegedSource FRESH, CACHED or DEFAULT
   * @param privilegedOutcome what happened to the privileged call
   */
  public record Panel(long roomId, List<Gift> gifts, List<Gift> privileged, String privilegedSource,
      String privilegedOutcome) {}

  @GetMapping("/api/rooms/{roomId}/panel")
  public Panel panel(@PathVariable long roomId, @RequestParam long uid) {
    Checks.requirePositive("roomId", roomId);
    Checks.requireNonNegative("uid", uid);
    BreakerResult<List<Gift>> r = privileged.call(uid, () -> privilegedService.fetch(uid));
    return new Panel(roomId, catalog.forRoom(roomId), r.value(), r.source().name(), r.outcome().name());
  }
}
