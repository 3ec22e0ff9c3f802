package io.giftkit.core;

import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void coreFollowsTheModuleRules() {
    GiftkitArchitecture.core().check();
  }

  /** The README's Public API section lists exactly the module's public types. */
  @Test
  void theReadmeListsExactlyThePublicTypes() {
    GiftkitArchitecture.core().publicApiIsListedIn(java.nio.file.Path.of("README.md"));
  }
}
