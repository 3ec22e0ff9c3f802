package io.giftkit.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.giftkit.core.Checks;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Jackson is an optional dependency: giftkit-cache's and giftkit-core's classes, loaded by a class
 * loader that sees nothing else (no Jackson), still give the other codecs, reflection on
 * {@link ValueCodec} works (frameworks list its methods), and {@code json(...)} fails naming the
 * dependency to add.
 */
class WithoutJacksonTest {

  private static URLClassLoader withoutJackson() {
    URL cache = ValueCodec.class.getProtectionDomain().getCodeSource().getLocation();
    URL core = Checks.class.getProtectionDomain().getCodeSource().getLocation();
    return new URLClassLoader("without-jackson", new URL[] {cache, core}, ClassLoader.getPlatformClassLoader());
  }

  @Test
  void theOtherCodecsWorkAndJsonNamesTheDependencyToAdd() throws Exception {
    try (URLClassLoader loader = withoutJackson()) {
      assertThatThrownBy(() -> loader.loadClass("tools.jackson.databind.json.JsonMapper"))
          .as("the loader really hides Jackson").isInstanceOf(ClassNotFoundException.class);
      Class<?> codecs = loader.loadClass(ValueCodec.class.getName());
      assertThat(codecs.getClassLoader()).isSameAs(loader);

      Object utf8 = codecs.getMethod("utf8").invoke(null);
      Method encode = codecs.getMethod("encode", Object.class);
      Method decode = codecs.getMethod("decode", byte[].class);
      byte[] bytes = (byte[]) encode.invoke(utf8, "直播 ✨");
      assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("直播 ✨");
      assertThat(decode.invoke(utf8, (Object) bytes)).isEqualTo("直播 ✨");

      assertThat(codecs.getMethods()).extracting(Method::getName).contains("utf8", "bytes", "json", "of");
      Method json = codecs.getMethod("json", Class.class);
      assertThatThrownBy(() -> json.invoke(null, String.class))
          .isInstanceOf(InvocationTargetException.class).cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("ValueCodec.json needs Jackson 3 on the class path, but tools.jackson.databind.json.JsonMapper"
              + " was not found: add the dependency tools.jackson.core:jackson-databind (3.1 or later; giftkit-cache"
              + " declares it optional, and Jackson 2's com.fasterxml.jackson.core:jackson-databind does not do),"
              + " or use ValueCodec.of(encode, decode)");
    }
  }
}
