package org.longctx.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every experiment file shipped in configs/ loads, validates and names the command that runs it. */
class ConfigsDirectoryTest {

  static List<Path> configFiles() throws IOException {
    Path dir = Path.of(System.getProperty("longctx.configs", "../configs"));
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    }
  }

  @Test
  void everyConfigLoadsAndStartsWithItsCommand() throws IOException {
    List<Path> files = configFiles();
    assertFalse(files.isEmpty(), "no configs found");
    for (Path file : files) {
      ExperimentConfig config = ConfigLoader.load(file, List.of());
      String first = Files.readAllLines(file).get(0);
      assertTrue(first.startsWith("# bin/longctx ") || first.startsWith("# spark-submit "),
          file + " must start with the command that runs it, got: " + first);
      assertTrue(first.contains(file.getFileName().toString()), file + ": the command must name the file: " + first);
      assertEquals(config, ConfigLoader.parse(ConfigLoader.toYaml(config), file.toString(), List.of()), file.toString());
    }
  }
}
