/**
 * Spring Boot auto-configuration for every GiftKit module. Filled in by the starter issue.
 */
package io.giftkit.boot;
