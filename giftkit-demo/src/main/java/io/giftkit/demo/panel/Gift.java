package io.giftkit.demo.panel;

/**
 * A gift shown on the panel.
 *
 * @param id the gift's id
 * @param name its name
 * @param price its price in coins
 */
public record Gift(long id, String name, long price) {}
