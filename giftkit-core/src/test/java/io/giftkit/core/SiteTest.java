package io.giftkit.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SiteTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "sh-2", "bj_idc1", "0", "abcdefghijklmnopqrstuvwxyz012345"})
  void acceptsShortLowerCaseNames(String name) {
    Site site = Site.of(name);
    assertThat(site.name()).isEqualTo(name);
    assertThat(site).hasToString(name).isEqualTo(Site.of(name)).hasSameHashCodeAs(Site.of(name));
    assertThat(site.matches(name)).isTrue();
    assertThat(site.matches(name + "x")).isFalse();
    assertThat(site.matches(null)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "A", "Sh1", "sh 1", "-a", "_a", "a.b", "abcdefghijklmnopqrstuvwxyz0123456", "é"})
  void rejectsOtherNamesNamingTheValue(String name) {
    assertThatThrownBy(() -> Site.of(name))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("site must be 1 to 32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit,"
            + " but was \"" + name + "\"");
  }

  @Test
  void rejectsNull() {
    assertThatThrownBy(() -> Site.of(null)).hasMessage("site must not be null, but was null");
  }

  @Test
  void configuredNameWinsOverEnvironment() {
    Map<String, String> env = Map.of("GIFTKIT_SITE", "b");
    assertThat(Site.resolve("a", env::get)).isEqualTo(Site.of("a"));
  }

  @Test
  void environmentIsUsedWhenNothingIsConfigured() {
    Map<String, String> env = Map.of("GIFTKIT_SITE", "b");
    assertThat(Site.resolve(null, env::get)).isEqualTo(Site.of("b"));
    assertThat(Site.resolve("  ", env::get)).isEqualTo(Site.of("b"));
  }

  @Test
  void badEnvironmentValueNamesTheVariable() {
    Map<String, String> env = Map.of("GIFTKIT_SITE", "Site B");
    assertThatThrownBy(() -> Site.resolve(null, env::get))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageStartingWith("GIFTKIT_SITE must be 1 to 32 characters")
        .hasMessageEndingWith("but was \"Site B\"");
  }

  @Test
  void missingSiteSaysHowToSetIt() {
    assertThatThrownBy(() -> Site.resolve(null, name -> null))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("site must be configured (set giftkit.site or the GIFTKIT_SITE environment variable),"
            + " but was null");
  }
}
