package io.giftkit.mq;

import io.giftkit.core.Checks;
import io.giftkit.core.Site;
import java.util.function.Predicate;

/**
 * Which records of a (possibly mirrored) topic this site handles. Dropped records are committed and
 * counted, never handled.
 */
public final class SiteFilter {

  private final Predicate<String> acceptSite; // given the record's site header (never null here)
  private final boolean acceptUntagged;
  private final String description;

  private SiteFilter(Predicate<String> acceptSite, boolean acceptUntagged, String description) {
    this.acceptSite = acceptSite;
    this.acceptUntagged = acceptUntagged;
    this.description = description;
  }

  /**
   * Only records whose origin site is the local one (the rule for mirrored topics: each site
   * processes its own messages). Records with no site header are treated as local.
   *
   * @param local the local site
   * @return the filter
   */
  public static SiteFilter localOnly(Site local) {
    Checks.requireNonNull("local", local);
    return new SiteFilter(local::matches, true, "LOCAL_ONLY(" + local + ")");
  }

  /** @return a filter that accepts every record */
  public static SiteFilter all() {
    return new SiteFilter(s -> true, true, "ALL");
  }

  /**
   * @param accept accepts a record by its origin site
   * @param acceptUntagged whether records with no site header are handled
   * @return the filter
   */
  public static SiteFilter matching(Predicate<String> accept, boolean acceptUntagged) {
    return new SiteFilter(Checks.requireNonNull("accept", accept), acceptUntagged, "PREDICATE");
  }

  /**
   * @param untagged whether records with no site header are handled (default true)
   * @return a filter like this one with that choice
   */
  public SiteFilter untagged(boolean untagged) {
    return new SiteFilter(acceptSite, untagged, description);
  }

  boolean accepts(String site) {
    return site == null ? acceptUntagged : acceptSite.test(site);
  }

  @Override
  public String toString() {
    return description + (acceptUntagged ? "" : ", untagged dropped");
  }
}
