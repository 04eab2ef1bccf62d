package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code longctx rope}: against transformers' own values (the positional module's golden
 * fixture, for configs in transformers 4 and 5 form), and its errors.
 */
class RopeJobTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURE = Path.of("../positional/src/test/resources/golden/rope_fixtures.json");

  @TempDir
  Path dir;

  /** Exit status, stdout and stderr of one {@code longctx ...} call, run in-process. */
  private record Result(int status, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private static synchronized Result longctx(String... argv) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setOut(o); // jobs print their result to stdout
      int status = Cli.run(argv, o, e);
      return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(previous);
    }
  }

  @Test
  void reproducesTransformersForEveryTypeAndBothConfigGenerations() throws Exception {
    JsonNode fixture = JSON.readTree(FIXTURE.toFile());
    int checked = 0;
    for (JsonNode c : fixture.get("cases")) {
      if (!c.get("source").asText().equals("transformers")) {
        continue;
      }
      for (String form : List.of("config_v4", "config_v5")) {
        Path config = dir.resolve(c.get("name").asText() + "-" + form + ".json");
        Files.writeString(config, c.get(form).toString());
        for (JsonNode e : c.get("evaluations")) {
          String what = c.get("name").asText() + " " + form + " @ " + e.get("seq_len");
          List<String> positions = new ArrayList<>();
          e.get("positions").forEach(p -> positions.add(p.asText()));
          Result r = longctx("rope", "--hf-config", config.toString(), "--seq-len", e.get("seq_len").asText(),
              "--positions", String.join(",", positions));
          assertEquals(0, r.status(), what + ": " + r.err());
          JsonNode out = r.json();
          assertEquals(c.get("hf_rope_parameters").get("rope_type").asText(), out.get("rope_type").asText(), what);
          compare(e, out, what);
          checked++;
        }
      }
    }
    assertTrue(checked >= 100, "checked " + checked + " evaluations");
  }

  /** inv_freq and attention within 1e-6 relative; cos/sin within 1e-6 plus the float32 propagation of Δinv_freq. */
  private static void compare(JsonNode golden, JsonNode out, String what) {
    JsonNode inv = golden.get("module_inv_freq");
    JsonNode ours = out.get("inv_freq");
    assertEquals(inv.size(), ours.size(), what);
    for (int i = 0; i < inv.size(); i++) {
      double expected = inv.get(i).asDouble();
      if (Math.abs(ours.get(i).asDouble() - expected) > 1e-6 * Math.abs(expected)) {
        fail(what + " inv_freq[" + i + "]: " + ours.get(i) + " vs " + expected);
      }
    }
    double attention = golden.get("module_attention_factor").asDouble();
    assertEquals(attention, out.get("attention_factor").asDouble(), 1e-6 * attention, what);
    int half = inv.size();
    for (String table : List.of("cos", "sin")) {
      JsonNode expectedRows = golden.get(table);
      JsonNode rows = out.get(table);
      assertEquals(expectedRows.size(), rows.size(), what);
      for (int r = 0; r < rows.size(); r++) {
        long p = golden.get("positions").get(r).asLong();
        for (int j = 0; j < 2 * half; j++) {
          double invOurs = ours.get(j % half).asDouble();
          double delta = Math.abs(invOurs - inv.get(j % half).asDouble());
          double tolerance = 1e-6 + attention * (p * delta + Math.ulp((float) (p * invOurs)));
          double actual = rows.get(r).get(j).asDouble();
          double expected = expectedRows.get(r).get(j).asDouble();
          if (Math.abs(actual - expected) > tolerance) {
            fail(what + " " + table + "(p=" + p + ")[" + j + "]: " + actual + " vs " + expected);
          }
        }
      }
    }
  }

  @Test
  void yamlRopeWithExplicitModelShape() throws Exception {
    Result r = longctx("rope", "--config", "../configs/rope-yarn-16k.yaml", "--head-dim", "128",
        "--max-position-embeddings", "4096", "--positions", "0,4095,16383");
    assertEquals(0, r.status(), r.err());
    JsonNode out = r.json();
    assertEquals("yarn", out.get("rope_type").asText());
    assertEquals(64, out.get("inv_freq").size());
    // methods.md: attention 0.1·ln 4 + 1; the fastest frequency is kept, the slowest divided by 4
    assertEquals(1.1386294361, out.get("attention_factor").asDouble(), 1e-9);
    assertEquals(1.0, out.get("inv_freq").get(0).asDouble(), 0.0);
    assertEquals(Math.pow(10000, -126.0 / 128) / 4, out.get("inv_freq").get(63).asDouble(), 1e-6 * Math.pow(10000, -126.0 / 128) / 4);
    assertEquals(3, out.get("cos").size());
    assertEquals(128, out.get("cos").get(0).size());
    assertEquals(1.1386294, out.get("cos").get(0).get(0).asDouble(), 1e-6, "cos(0) is the attention factor");
  }

  @Test
  void yamlRopeTakesTheModelShapeFromModelPath() throws Exception {
    Path model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{\"hidden_size\": 256, \"num_attention_heads\": 4, "
        + "\"max_position_embeddings\": 2048, \"rope_theta\": 500000.0}");
    Path yaml = dir.resolve("x.yaml");
    Files.writeString(yaml, "# bin/longctx rope --config x.yaml\nname: x\nmodel:\n  path: " + model + "\nrope:\n  rope_type: linear\n  factor: 2.0\n");
    JsonNode out = longctx("rope", "--config", yaml.toString()).json();
    assertEquals("linear", out.get("rope_type").asText());
    assertEquals(32, out.get("inv_freq").size());
    assertEquals(Math.pow(500000, -2.0 / 64) / 2, out.get("inv_freq").get(1).asDouble(), 1e-6 * Math.pow(500000, -2.0 / 64) / 2);
    // without a rope: section the model's own rope is shown
    Files.writeString(yaml, "name: x\nmodel:\n  path: " + model + "\n");
    assertEquals("default", longctx("rope", "--config", yaml.toString()).json().get("rope_type").asText());
  }

  @Test
  void badRopesFailNamingTheKey() throws Exception {
    Path yaml = dir.resolve("bad.yaml");
    Files.writeString(yaml, "name: bad\nrope:\n  rope_type: yarn\n  factor: 0.5\n");
    Result r = longctx("rope", "--config", yaml.toString(), "--head-dim", "64", "--max-position-embeddings", "4096");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("rope.factor: must be a finite number ≥ 1"), r.err());

    Result lists = longctx("rope", "--config", "../configs/rope-yarn-16k.yaml", "--set", "rope.rope_type=longrope",
        "--set", "rope.factor=", "--set", "rope.short_factor=[1.0, 1.0]", "--set", "rope.long_factor=[2.0, 2.0]",
        "--head-dim", "64", "--max-position-embeddings", "4096");
    assertEquals(2, lists.status(), lists.out());
    assertTrue(lists.err().contains("rope.short_factor: must have head_dim/2 = 32 values, got 2"), lists.err());

    Path hf = dir.resolve("config.json");
    Files.writeString(hf, "{\"head_dim\": 64, \"max_position_embeddings\": 4096, \"rope_scaling\": "
        + "{\"type\": \"yarn\", \"factor\": 0.5}}");
    Result bad = longctx("rope", "--hf-config", hf.toString());
    assertEquals(2, bad.status());
    assertTrue(bad.err().contains("rope_scaling.factor: must be a finite number ≥ 1"), bad.err());
  }

  @Test
  void usageAndCommandLineErrors() {
    Result help = longctx("rope", "--help");
    assertEquals(0, help.status());
    assertTrue(help.out().startsWith("Usage: longctx rope --hf-config"), help.out());
    assertTrue(longctx("help").out().contains("rope "), "listed by longctx help");
    Result none = longctx("rope");
    assertEquals(2, none.status());
    assertTrue(none.err().contains("give --hf-config PATH/config.json or --config X.yaml"), none.err());
    Result missing = longctx("rope", "--hf-config", dir.resolve("nope.json").toString());
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("config.json not found"), missing.err());
    Result positions = longctx("rope", "--hf-config", "x.json", "--positions", "0,-3");
    assertEquals(2, positions.status());
    assertFalse(positions.err().isEmpty());
  }
}
