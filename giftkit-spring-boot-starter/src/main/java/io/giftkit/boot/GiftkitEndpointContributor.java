package io.giftkit.boot;

/**
 * A part of the {@code giftkit} Actuator endpoint's body: each module's auto-configuration adds one
 * (breakers, consumers, re-checks …), so the endpoint needs no module's classes.
 */
public interface GiftkitEndpointContributor {

  /** @return the key in the endpoint's body, e.g. {@code consumers} */
  String key();

  /** @return the part, made of maps, lists, strings and numbers (rendered as JSON) */
  Object describe();
}
