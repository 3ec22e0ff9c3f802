/**
 * The reference gift system. Filled in by the demo issue.
 */
package io.giftkit.demo;
