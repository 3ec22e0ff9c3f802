package io.giftkit.coord;

import io.giftkit.testing.GiftkitArchitecture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheLibraryModuleRules() {
    GiftkitArchitecture.libraryModule("io.giftkit.coord").check();
  }

  /** The README's Public API section lists exactly the module's public types. */
  @Test
  void theReadmeListsExactlyThePublicTypes() {
    GiftkitArchitecture.libraryModule("io.giftkit.coord").publicApiIsListedIn(Path.of("README.md"));
  }
}
