package org.springframework.fake;

/** Fixture standing for a Spring type. */
public class FakeSpringBean {}
