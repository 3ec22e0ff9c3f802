package io.giftkit.boot;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.giftkit.testing.GiftkitArchitecture;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;

class ArchitectureTest {

  private static final JavaClasses CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.giftkit.boot");

  @Test
  void followsTheIntegrationModuleRules() {
    GiftkitArchitecture.integrationModule("io.giftkit.boot").check();
  }

  @Test
  void autoConfigurationsArePublicFinal() {
    classes().that().areAnnotatedWith(AutoConfiguration.class).should().bePublic().andShould()
        .haveModifier(JavaModifier.FINAL).andShould().haveSimpleNameEndingWith("AutoConfiguration")
        .check(CLASSES);
  }

  @Test
  void beanMethodsAreNotPublic() {
    noMethods().that().areAnnotatedWith(Bean.class).should().bePublic()
        .because("@Bean methods are package-private: the beans are the API, not the factory methods")
        .check(CLASSES);
  }
}
