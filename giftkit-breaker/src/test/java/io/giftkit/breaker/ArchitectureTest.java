package io.giftkit.breaker;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheLibraryModuleRules() {
    GiftkitArchitecture.libraryModule("io.giftkit.breaker").check();
  }

  /** The README's Public API section lists exactly the module's public types. */
  @Test
  void theReadmeListsExactlyThePublicTypes() {
    GiftkitArchitecture.libraryModule("io.giftkit.breaker").publicApiIsListedIn(java.nio.file.Path.of("README.md"));
  }
}
