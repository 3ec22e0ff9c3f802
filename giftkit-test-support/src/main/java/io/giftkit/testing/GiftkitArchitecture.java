package io.giftkit.testing;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.ArrayList;
import java.util.List;

/**
 * The module rules of GiftKit, one shared rule set that every module's {@code ArchitectureTest}
 * runs against its own main classes:
 *
 * <ul>
 *   <li>{@code giftkit-core} depends on the JDK and slf4j-api only;
 *   <li>library modules ({@code breaker}, {@code shard}, {@code cache}, {@code mq}) never depend on
 *       Spring, and of GiftKit's own packages depend only on their own and on {@code io.giftkit.core};
 *   <li>no module depends on another module's {@code internal} packages;
 *   <li>no package cycles inside a module.
 * </ul>
 *
 * <pre>{@code
 * @Test void followsTheModuleRules() { GiftkitArchitecture.libraryModule("io.giftkit.breaker").check(); }
 * }</pre>
 */
public final class GiftkitArchitecture {

  private static final String GIFTKIT = "io.giftkit..";
  private static final String CORE = "io.giftkit.core..";

  private final String basePackage;
  private final List<ArchRule> rules;

  private GiftkitArchitecture(String basePackage, List<ArchRule> rules) {
    this.basePackage = basePackage;
    this.rules = List.copyOf(rules);
  }

  /**
   * The rules for {@code giftkit-core}: JDK and slf4j-api only.
   *
   * @return the rule set
   */
  public static GiftkitArchitecture core() {
    List<ArchRule> rules = common("io.giftkit.core");
    rules.add(classes().should().onlyDependOnClassesThat(resideInAnyPackage("java..", "org.slf4j..", CORE))
        .because("giftkit-core depends on slf4j-api only"));
    return new GiftkitArchitecture("io.giftkit.core", rules);
  }

  /**
   * The rules for a library module: no Spring; of GiftKit, only itself and core.
   *
   * @param basePackage the module's root package, e.g. {@code io.giftkit.breaker}
   * @return the rule set
   */
  public static GiftkitArchitecture libraryModule(String basePackage) {
    List<ArchRule> rules = common(basePackage);
    rules.add(noClasses().should().dependOnClassesThat().resideInAnyPackage("org.springframework..")
        .because("library modules never depend on Spring; the starter adapts them"));
    rules.add(classes().should().onlyDependOnClassesThat(
            resideOutsideOfPackage(GIFTKIT).or(resideInAnyPackage(basePackage + "..", CORE)))
        .because("library modules depend on giftkit-core, not on each other"));
    return new GiftkitArchitecture(basePackage, rules);
  }

  /**
   * The rules for a module that integrates the others (the starter, the demo, the benchmarks): it
   * may use Spring and every module's API, but no module's {@code internal} packages.
   *
   * @param basePackage the module's root package, e.g. {@code io.giftkit.boot}
   * @return the rule set
   */
  public static GiftkitArchitecture integrationModule(String basePackage) {
    return new GiftkitArchitecture(basePackage, common(basePackage));
  }

  private static List<ArchRule> common(String basePackage) {
    DescribedPredicate<JavaClass> otherModulesInternals = resideInAPackage("io.giftkit..internal..")
        .and(resideOutsideOfPackage(basePackage + ".."))
        .as("an internal package of another module");
    List<ArchRule> rules = new ArrayList<>();
    rules.add(noClasses().should().dependOnClassesThat(otherModulesInternals)
        .because("internal packages are shared within their own module only"));
    rules.add(slices().matching(basePackage + ".(**)").should().beFreeOfCycles()
        // A module with a single package has no slices to compare; that is not a failure.
        .allowEmptyShould(true));
    return rules;
  }

  /** Checks the rules against the module's main classes (test classes excluded). */
  public void check() {
    check(new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages(basePackage));
  }

  /**
   * Checks the rules against the given classes.
   *
   * @param classes the classes
   * @throws AssertionError listing every violation
   */
  public void check(JavaClasses classes) {
    if (classes.isEmpty()) {
      throw new AssertionError("no classes found in " + basePackage + ": is the base package right?");
    }
    StringBuilder failures = new StringBuilder();
    for (ArchRule rule : rules) {
      EvaluationResult result = rule.evaluate(classes);
      if (result.hasViolation()) {
        failures.append(result.getFailureReport().toString()).append(System.lineSeparator());
      }
    }
    if (failures.length() > 0) {
      throw new AssertionError(failures.toString());
    }
  }

  /**
   * Checks that the module README's {@code ## Public API} section lists exactly the module's public
   * top-level types (main classes): the first column of its table rows, {@code | `Name` | …}. A type
   * made public by accident, or one the README forgets or still lists after it went, fails the check.
   *
   * @param readme the module's README
   * @throws AssertionError naming the types listed but not public, and public but not listed
   */
  public void publicApiIsListedIn(java.nio.file.Path readme) {
    java.util.Set<String> listed = new java.util.TreeSet<>();
    String text;
    try {
      text = java.nio.file.Files.readString(readme);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    int start = text.indexOf("\n## Public API");
    if (start < 0) {
      throw new AssertionError(readme + " has no '## Public API' section");
    }
    int end = text.indexOf("\n## ", start + 1);
    java.util.regex.Matcher row = java.util.regex.Pattern.compile("(?m)^\\| `([A-Z][A-Za-z0-9]*)(<[^`]*>)?` \\|")
        .matcher(end < 0 ? text.substring(start) : text.substring(start, end));
    while (row.find()) {
      listed.add(row.group(1));
    }
    java.util.Set<String> publicTypes = new java.util.TreeSet<>();
    for (JavaClass c : new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages(basePackage)) {
      if (c.isTopLevelClass() && c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)
          && !c.getSimpleName().equals("package-info")) {
        publicTypes.add(c.getSimpleName());
      }
    }
    java.util.Set<String> notPublic = new java.util.TreeSet<>(listed);
    notPublic.removeAll(publicTypes);
    java.util.Set<String> notListed = new java.util.TreeSet<>(publicTypes);
    notListed.removeAll(listed);
    if (!notPublic.isEmpty() || !notListed.isEmpty()) {
      throw new AssertionError(readme + "'s Public API section and the public types of " + basePackage
          + " differ: listed but not public " + notPublic + ", public but not listed " + notListed);
    }
  }

  /**
   * Returns the rules, for callers that evaluate them their own way.
   *
   * @return the rules
   */
  public List<ArchRule> rules() {
    return rules;
  }
}
