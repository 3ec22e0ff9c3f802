package io.giftkit.shard;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheLibraryModuleRules() {
    GiftkitArchitecture.libraryModule("io.giftkit.shard").check();
  }
}
