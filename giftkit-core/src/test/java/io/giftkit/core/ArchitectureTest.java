package io.giftkit.core;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void coreFollowsTheModuleRules() {
    GiftkitArchitecture.core().check();
  }
}
