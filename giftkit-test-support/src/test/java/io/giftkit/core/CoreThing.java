package io.giftkit.core;

/** Fixture standing for a giftkit-core API type. */
public class CoreThing {}
