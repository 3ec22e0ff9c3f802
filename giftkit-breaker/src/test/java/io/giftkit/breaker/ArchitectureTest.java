package io.giftkit.breaker;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheLibraryModuleRules() {
    GiftkitArchitecture.libraryModule("io.giftkit.breaker").check();
  }
}
