/**
 * The reference gift system: a Spring Boot application wiring GiftKit's modules into a live-gift
 * system, with simulated dependencies and fault injection so each pattern can be watched working.
 */
package io.giftkit.demo;
