package io.giftkit.cache;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void followsTheLibraryModuleRules() {
    GiftkitArchitecture.libraryModule("io.giftkit.cache").check();
  }

  /** Jackson is optional: the caches and the other codecs must load without it (WithoutJacksonTest). */
  @Test
  void onlyJacksonValueCodecRefersToJackson() {
    noClasses().that().haveNameNotMatching("io\\.giftkit\\.cache\\.JacksonValueCodec(\\$.*)?")
        .should().dependOnClassesThat().resideInAnyPackage("tools.jackson..", "com.fasterxml.jackson..")
        .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.giftkit.cache"));
  }

  /** The README's Public API section lists exactly the module's public types. */
  @Test
  void theReadmeListsExactlyThePublicTypes() {
    GiftkitArchitecture.libraryModule("io.giftkit.cache").publicApiIsListedIn(java.nio.file.Path.of("README.md"));
  }
}
