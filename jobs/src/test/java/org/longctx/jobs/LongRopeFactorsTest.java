package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.search.FactorFile;

/** A factors.json goes wherever a rope goes: a rope: section, an eval method, export. */
class LongRopeFactorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** 8 factors (head_dim 16), searched for 256 from 64 (the golden llama-gqa-yarn fixture's shape). */
  private Path factorFile() throws Exception {
    Path file = dir.resolve("factors.json");
    new FactorFile(256, 64, "su", List.of(1.0, 1.0, 1.2, 1.5, 2.0, 2.8, 3.5, 4.0), List.of(), 0,
        Map.of("id", "test"), Map.of("best", 3.0), Map.of()).write(file);
    return file;
  }

  @Test
  void ropeSectionAndEvalMethodReadAFactorFile() throws Exception {
    Path file = factorFile();
    ExperimentConfig c = ConfigLoader.parse("""
        rope: {factors: %s}
        eval:
          methods:
            - name: longrope-128
              rope: {factors: %s, length: 128}
        """.formatted(file, file), "test", List.of());
    RopeConfig rope = c.rope();
    assertEquals("longrope", rope.ropeType());
    assertEquals(List.of(1.0, 1.0, 1.2, 1.5, 2.0, 2.8, 3.5, 4.0), rope.longFactor());
    assertEquals(List.of(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0), rope.shortFactor());
    assertEquals(4.0, rope.factor());
    assertEquals(64, rope.originalMaxPositionEmbeddings());
    assertEquals(Math.sqrt(1 + Math.log(4) / Math.log(64)), rope.attentionFactor(), 1e-12, "su");
    // rescaled to 2x (docs/methods.md §3): λ' = 1 + (λ − 1)·(2 − 1)/(4 − 1)
    RopeConfig half = c.eval().methods().get(0).rope();
    assertEquals(1 + 3.0 / 3, half.longFactor().get(7), 1e-12);
    assertEquals(1 + 0.2 / 3, half.longFactor().get(2), 1e-12);
    assertEquals(2.0, half.factor());
    // the resolved config prints as a plain longrope section and loads again
    assertEquals(c, ConfigLoader.parse(ConfigLoader.toYaml(c), "again", List.of()));
  }

  @Test
  void badFactorSectionsNameTheKey() throws Exception {
    Path file = factorFile();
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse("rope: {factors: " + dir.resolve("none.json") + "}", "t", List.of()));
    assertEquals("rope.factors: file not found: " + dir.resolve("none.json"), e.getMessage());
    e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse("rope: {factors: " + file + ", rope_type: yarn}", "t", List.of()));
    assertTrue(e.getMessage().startsWith("rope.rope_type: not used with factors"), e.getMessage());
    e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse("rope: {factors: " + file + ", length: 512}", "t", List.of()));
    assertTrue(e.getMessage().startsWith("rope.length: factors searched for 256 tokens can be rescaled to a length in (64, 256]"),
        e.getMessage());
  }

  @Test
  void exportWritesTransformersLongropeInBothGenerations() throws Exception {
    Path out = dir.resolve("hf");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    int status;
    try (PrintStream o = new PrintStream(stdout, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
      System.setOut(o);
      status = Cli.run(new String[] {"export", "--from", "../trainer/src/test/resources/golden/llama-gqa-yarn",
          "--out", out.toString(), "--factors", factorFile().toString()}, o, e);
    } finally {
      System.setOut(previous);
    }
    assertEquals(0, status, stderr.toString(StandardCharsets.UTF_8));
    JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
    double af = Math.sqrt(1 + Math.log(4) / Math.log(64));
    assertEquals(256, config.get("max_position_embeddings").asInt());
    JsonNode v5 = config.get("rope_parameters");
    assertEquals("longrope", v5.get("rope_type").asText());
    assertEquals(4.0, v5.get("factor").asDouble());
    assertEquals(64, v5.get("original_max_position_embeddings").asInt());
    assertEquals(af, v5.get("attention_factor").asDouble(), 1e-12);
    assertEquals(4.0, v5.get("long_factor").get(7).asDouble());
    assertEquals(1.0, v5.get("short_factor").get(7).asDouble());
    JsonNode v4 = config.get("rope_scaling");
    assertEquals("longrope", v4.get("rope_type").asText());
    assertEquals("longrope", v4.get("type").asText());
    assertEquals(af, v4.get("attention_factor").asDouble(), 1e-12);
    assertEquals(2.8, v4.get("long_factor").get(5).asDouble());
    assertEquals(64, config.get("original_max_position_embeddings").asInt(), "Phi-3 style top level for transformers 4");
  }
}
