package io.giftkit.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** The shared rules catch what they promise to catch, on fixture classes. */
class GiftkitArchitectureTest {

  private static JavaClasses load(String pkg) {
    return new ClassFileImporter().importPackages(pkg);
  }

  @Test
  void aLibraryModuleUsingOnlyItselfAndCorePasses() {
    assertThatCode(() -> GiftkitArchitecture.libraryModule("io.giftkit.fixture.good")
        .check(load("io.giftkit.fixture.good"))).doesNotThrowAnyException();
  }

  @Test
  void aLibraryModuleUsingAnotherModuleFails() {
    assertThatThrownBy(() -> GiftkitArchitecture.libraryModule("io.giftkit.fixture.badlib")
        .check(load("io.giftkit.fixture.badlib")))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("depend on giftkit-core, not on each other")
        .hasMessageContaining("io.giftkit.fixture.other.OtherApi");
  }

  @Test
  void aLibraryModuleUsingSpringFails() {
    assertThatThrownBy(() -> GiftkitArchitecture.libraryModule("io.giftkit.fixture.spring")
        .check(load("io.giftkit.fixture.spring")))
        .hasMessageContaining("never depend on Spring")
        .hasMessageContaining("org.springframework.fake.FakeSpringBean");
  }

  @Test
  void anIntegrationModuleMayUseSpringButNotOtherModulesInternals() {
    assertThatCode(() -> GiftkitArchitecture.integrationModule("io.giftkit.fixture.spring")
        .check(load("io.giftkit.fixture.spring"))).doesNotThrowAnyException();
    assertThatThrownBy(() -> GiftkitArchitecture.integrationModule("io.giftkit.fixture.peeker")
        .check(load("io.giftkit.fixture.peeker")))
        .hasMessageContaining("internal packages are shared within their own module only")
        .hasMessageContaining("OtherInternal");
  }

  @Test
  void packageCyclesFail() {
    assertThatThrownBy(() -> GiftkitArchitecture.integrationModule("io.giftkit.fixture.cycle")
        .check(load("io.giftkit.fixture.cycle")))
        .hasMessageContaining("free of cycles");
  }

  @Test
  void coreMayUseOnlyTheJdkAndSlf4j() {
    assertThatThrownBy(() -> GiftkitArchitecture.core().check(load("io.giftkit.fixture.spring")))
        .hasMessageContaining("giftkit-core depends on slf4j-api only");
  }

  @Test
  void aWrongBasePackageIsReportedNotPassed() {
    assertThatThrownBy(() -> GiftkitArchitecture.libraryModule("io.giftkit.nosuchmodule").check())
        .hasMessageContaining("no classes found in io.giftkit.nosuchmodule");
  }

  /** A README that forgets a public type, or lists one that is not public, fails the check naming both. */
  @Test
  void aPublicApiSectionThatDiffersFromThePublicTypesFails(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.nio.file.Path readme = dir.resolve("README.md");
    java.nio.file.Files.writeString(readme, "# m\n\n## Public API\n\n| type | what |\n|---|---|\n"
        + "| `KafkaBroker` | a broker |\n| `NoSuchType` | gone |\n\n## Other\n\n| `MariaDbExtension` | not in the section |\n");
    assertThatThrownBy(() -> GiftkitArchitecture.integrationModule("io.giftkit.testing").publicApiIsListedIn(readme))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("listed but not public [NoSuchType]")
        .hasMessageContaining("public but not listed [")
        .hasMessageContaining("MariaDbExtension");
    java.nio.file.Files.writeString(readme, "# m\n");
    assertThatThrownBy(() -> GiftkitArchitecture.integrationModule("io.giftkit.testing").publicApiIsListedIn(readme))
        .hasMessageContaining("has no '## Public API' section");
  }
}
