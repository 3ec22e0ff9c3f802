/**
 * JMH benchmarks, side by side with the libraries users would otherwise pick. Filled in as each module lands.
 */
package io.giftkit.benchmarks;
