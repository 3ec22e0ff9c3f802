package io.giftkit.demo;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheIntegrationModuleRules() {
    GiftkitArchitecture.integrationModule("io.giftkit.demo").check();
  }
}
