/**
 * Spring Boot auto-configuration for GiftKit: {@code giftkit.*} properties (with IDE metadata),
 * beans for every module whose classes are present, {@code …Customizer} beans for what the
 * properties do not cover, Micrometer metrics, an Actuator endpoint, and start-up failures that name
 * the property, the bad value and the rule.
 */
package io.giftkit.boot;
