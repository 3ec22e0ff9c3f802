package io.giftkit.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the report says about the machine it ran on. */
final class Machine {

  private Machine() {}

  static String describe() {
    return "| | |\n|---|---|\n"
        + "| cores | " + Runtime.getRuntime().availableProcessors() + " |\n"
        + "| CPU | " + cpuModel() + " |\n"
        + "| memory (max heap) | " + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB |\n"
        + "| JDK | " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " |\n"
        + "| OS | " + osName() + " (" + System.getProperty("os.name") + " " + System.getProperty("os.version")
        + ", " + System.getProperty("os.arch") + ") |\n";
  }

  private static String cpuModel() {
    return firstValue(Path.of("/proc/cpuinfo"), "model name", ':');
  }

  private static String osName() {
    return firstValue(Path.of("/etc/os-release"), "PRETTY_NAME", '=').replace("\"", "");
  }

  private static String firstValue(Path file, String key, char separator) {
    try {
      List<String> lines = Files.readAllLines(file);
      for (String line : lines) {
        int i = line.indexOf(separator);
        if (i > 0 && line.substring(0, i).trim().equals(key)) {
          return line.substring(i + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
    return "unknown";
  }
}
