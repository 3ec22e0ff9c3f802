package io.giftkit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The container image's build context works (no container engine here, so this is what can be
 * tested): runs the Dockerfile's extraction step on the packaged jar, then checks that every
 * directory the Dockerfile copies exists, that its ENTRYPOINT's launcher class is in the copied
 * layers, and that the compose file and the Kubernetes Deployment use the image the Dockerfile's
 * comment builds. Runs after {@code package} (failsafe), where the jar exists.
 */
class ImageContextIT {

  private static final Path DOCKERFILE = Path.of("Dockerfile");
  private static final Path JAR = Path.of("target/giftkit-demo.jar");

  @Test
  void theDockerfileExtractsTheJarIntoTheLayersItCopies(@TempDir Path build) throws Exception {
    String dockerfile = Files.readString(DOCKERFILE);
    assertThat(JAR).as("the jar the Dockerfile copies").isRegularFile();
    assertThat(dockerfile).contains("COPY target/giftkit-demo.jar app.jar");
    Matcher run = Pattern.compile("RUN java (.+) --destination (\\S+)").matcher(dockerfile);
    assertThat(run.find()).as("the extraction step").isTrue();
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String arg : run.group(1).split(" ")) {
      command.add(arg.equals("app.jar") ? JAR.toAbsolutePath().toString() : arg);
    }
    Path extracted = build.resolve(run.group(2));
    command.addAll(List.of("--destination", extracted.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(build.resolve("extract.log").toFile())
        .start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor();
    }
    assertThat(done).as("extraction finished within 120 s").isTrue();
    assertThat(p.exitValue()).as(Files.readString(build.resolve("extract.log"))).isZero();

    Matcher copy = Pattern.compile("COPY --from=layers /build/" + Pattern.quote(run.group(2)) + "/(\\S+)/ \\./")
        .matcher(dockerfile);
    Set<String> layers = new LinkedHashSet<>();
    while (copy.find()) {
      layers.add(copy.group(1));
    }
    assertThat(layers).containsExactly("dependencies", "spring-boot-loader", "snapshot-dependencies", "application");
    for (String layer : layers) {
      assertThat(extracted.resolve(layer)).as("layer %s", layer).isDirectory();
    }
    try (Stream<Path> lib = Files.list(extracted.resolve("dependencies/BOOT-INF/lib"))) {
      assertThat(lib.map(f -> f.getFileName().toString())).as("dependencies layer")
          .anyMatch(n -> n.startsWith("kafka_2.13-")).anyMatch(n -> n.startsWith("spring-boot-"))
          .noneMatch(n -> n.startsWith("giftkit-test-support") || n.startsWith("junit-"));
    }
    Matcher entry = Pattern.compile("ENTRYPOINT \\[.*\"([\\w.]+JarLauncher)\"\\]").matcher(dockerfile);
    assertThat(entry.find()).as("ENTRYPOINT names the launcher").isTrue();
    Path launcher = extracted.resolve("spring-boot-loader").resolve(entry.group(1).replace('.', '/') + ".class");
    assertThat(launcher).as("the launcher class in the loader layer").isRegularFile();
    assertThat(extracted.resolve("application/BOOT-INF/classes/io/giftkit/demo/GiftDemoApplication.class")).isRegularFile();
  }

  @Test
  @SuppressWarnings("unchecked")
  void composeAndKubernetesUseTheImageTheDockerfileBuilds() throws IOException {
    Matcher tag = Pattern.compile("docker build -t (\\S+) giftkit-demo").matcher(Files.readString(DOCKERFILE));
    assertThat(tag.find()).isTrue();
    String image = tag.group(1);
    Yaml yaml = new Yaml(new LoaderOptions());
    Map<String, Object> compose = yaml.load(Files.readString(Path.of("deploy/docker-compose.yml")));
    Map<String, Object> app = (Map<String, Object>) ((Map<String, Object>) compose.get("services")).get("app");
    assertThat(app.get("image")).isEqualTo(image);
    Map<String, Object> build = (Map<String, Object>) app.get("build");
    assertThat(Path.of("deploy").resolve((String) build.get("context")).resolve((String) build.get("dockerfile"))
        .normalize()).isEqualTo(DOCKERFILE);
    String deployment = Files.readString(Path.of("deploy/k8s/deployment.yaml"));
    assertThat(deployment).contains("image: " + image);
  }
}
