package io.giftkit.mq.recheck;

import java.time.Instant;

/**
 * A re-check that needs a person: its handler said so, or it stayed unsettled through every attempt.
 * Alerts are kept in the re-check table ({@link DelayedRecheck#alerts()}) until you delete them.
 *
 * @param scheduler the {@link DelayedRecheck}'s name
 * @param key the business key
 * @param attempts how many times it was checked
 * @param reason the handler's reason, or why the attempts ran out
 * @param raisedAt when the alert was raised
 */
public record RecheckAlert(String scheduler, String key, int attempts, String reason, Instant raisedAt) {}
