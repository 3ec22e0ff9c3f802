/**
 * What every GiftKit module shares: the local {@link io.giftkit.core.Site site} identity, a monotonic
 * {@link io.giftkit.core.Ticker}, argument {@link io.giftkit.core.Checks checks} whose messages name
 * the parameter, the rule and the bad value, guarded {@link io.giftkit.core.Listeners listener}
 * dispatch, and the small exception hierarchy ({@link io.giftkit.core.GiftkitException},
 * {@link io.giftkit.core.GiftkitTimeoutException}, {@link io.giftkit.core.InvalidConfigException}).
 *
 * <p>This module depends on slf4j-api only and holds nothing that fewer than two modules need.
 */
package io.giftkit.core;
