package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code longctx score} and {@code longctx export} on the tiny models transformers saved
 * (trainer's golden fixtures, from tools/reference/model_fixtures.py): logits within 1e-4 of
 * transformers', export → score identical, and their errors.
 */
class ScoreExportJobTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path GOLDEN = Path.of("../trainer/src/test/resources/golden");

  @TempDir Path dir;

  private record Result(int status, String out, String err) {}

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

  private static JsonNode reference(String model, String caseName) throws Exception {
    for (JsonNode c : JSON.readTree(GOLDEN.resolve(model).resolve("reference.json").toFile()).get("cases")) {
      if (c.get("name").asText().equals(caseName)) {
        return c;
      }
    }
    throw new AssertionError("no case " + caseName);
  }

  private static String ids(JsonNode c) {
    StringBuilder sb = new StringBuilder();
    c.get("input_ids").forEach(v -> sb.append(sb.length() == 0 ? "" : ",").append(v.asLong()));
    return sb.toString();
  }

  private static double maxAbsDiff(JsonNode expected, JsonNode actual) {
    assertEquals(expected.size(), actual.size(), "rows");
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).size(), actual.get(i).size(), "vocabulary");
      for (int j = 0; j < expected.get(i).size(); j++) {
        worst = Math.max(worst, Math.abs(expected.get(i).get(j).asDouble() - actual.get(i).get(j).asDouble()));
      }
    }
    return worst;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama-gqa-yarn", "qwen2-bias-tied", "mistral-sharded"})
  void scoreMatchesTransformers(String model) throws Exception {
    for (String caseName : new String[] {"short", "long"}) {
      JsonNode c = reference(model, caseName);
      Result r = longctx("score", "--model", GOLDEN.resolve(model).toString(), "--input-ids", ids(c), "--attention-chunk", "7");
      assertEquals(0, r.status(), r.err());
      double diff = maxAbsDiff(c.get("logits"), JSON.readTree(r.out()).get("logits"));
      assertTrue(diff <= 1e-4, model + "/" + caseName + ": max |Δ| " + diff);
    }
  }

  @Test
  void scoreWritesAFileAndHonoursPositionIds() throws Exception {
    JsonNode c = reference("llama-gqa-yarn", "pose_positions");
    StringBuilder pos = new StringBuilder();
    c.get("position_ids").forEach(v -> pos.append(pos.length() == 0 ? "" : ",").append(v.asLong()));
    Path out = dir.resolve("logits.json");
    Result r = longctx("score", "--model", GOLDEN.resolve("llama-gqa-yarn").toString(), "--input-ids", ids(c),
        "--position-ids", pos.toString(), "--out", out.toString());
    assertEquals(0, r.status(), r.err());
    assertEquals("", r.out());
    assertTrue(maxAbsDiff(c.get("logits"), JSON.readTree(out.toFile()).get("logits")) <= 1e-4);
  }

  @Test
  void exportThenScoreGivesIdenticalLogits() throws Exception {
    String model = GOLDEN.resolve("llama-gqa-yarn").toString();
    Path out = dir.resolve("exported");
    Result e = longctx("export", "--from", model, "--out", out.toString(), "--max-shard-size", "100KB");
    assertEquals(0, e.status(), e.err());
    assertTrue(e.out().startsWith("exported LlamaForCausalLM (rope yarn, float32) to "), e.out());
    assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
    Result before = longctx("score", "--model", model, "--input-ids", "1,5,9,17,3");
    Result after = longctx("score", "--model", out.toString(), "--input-ids", "1,5,9,17,3");
    assertEquals(0, after.status(), after.err());
    assertEquals(before.out(), after.out());

    Path bf16 = dir.resolve("bf16");
    Result b = longctx("export", "--from", model, "--out", bf16.toString(), "--dtype", "bfloat16");
    assertEquals(0, b.status(), b.err());
    assertEquals("bfloat16", JSON.readTree(bf16.resolve("config.json").toFile()).get("torch_dtype").asText());
  }

  /**
   * Our longrope export read by transformers: golden/longrope-export/reference.json holds
   * transformers' logits for the folder this export writes (the llama-gqa-yarn weights with
   * factors.json's short and long factors, original 32, target 128), recorded with
   * tools/reference/model_fixtures.py --record-export. Cases below, at and above
   * original_max_position_embeddings: transformers switches to the long factors past 32 tokens, and
   * so must the model read back from the export.
   */
  @Test
  void longropeExportMatchesTransformersBelowAndAboveTheOriginalWindow() throws Exception {
    Path fixture = Path.of("src/test/resources/golden/longrope-export");
    Path out = dir.resolve("longrope");
    Result e = longctx("export", "--from", GOLDEN.resolve("llama-gqa-yarn").toString(), "--out", out.toString(), "--factors",
        fixture.resolve("factors.json").toString());
    assertEquals(0, e.status(), e.err());
    JsonNode reference = JSON.readTree(fixture.resolve("reference.json").toFile());
    JsonNode rope = JSON.readTree(out.resolve("config.json").toFile()).get("rope_parameters");
    JsonNode resolved = reference.get("rope_resolved");
    for (String key : new String[] {"rope_type", "short_factor", "long_factor", "original_max_position_embeddings", "attention_factor"}) {
      assertEquals(resolved.get(key), rope.get(key), "rope_parameters." + key + " as transformers read it");
    }
    Set<Boolean> sides = new HashSet<>();
    for (JsonNode c : reference.get("cases")) {
      sides.add(c.get("input_ids").size() > resolved.get("original_max_position_embeddings").asInt());
      Result r = longctx("score", "--model", out.toString(), "--input-ids", ids(c));
      assertEquals(0, r.status(), r.err());
      double diff = maxAbsDiff(c.get("logits"), JSON.readTree(r.out()).get("logits"));
      assertTrue(diff <= 1e-4, c.get("name").asText() + ": max |ours - transformers| " + diff);
    }
    assertEquals(Set.of(true, false), sides, "cases on both sides of the switch");
  }

  private static long[] longs(JsonNode array) {
    if (array == null || array.isNull()) {
      return null;
    }
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  /** A long input goes through the cache in segments: the same logits, an estimate first, then progress. */
  @ParameterizedTest
  @ValueSource(strings = {"long", "pose_positions"})
  void longInputsAreScoredInSegmentsWithAnEstimateAndProgress(String caseName) throws Exception {
    JsonNode c = reference("llama-gqa-yarn", caseName);
    java.util.List<String> progress = new java.util.ArrayList<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (org.longctx.trainer.model.LlamaModel model = org.longctx.trainer.model.ModelWeights.load(
        GOLDEN.resolve("llama-gqa-yarn").toString(), org.longctx.trainer.model.Precision.FLOAT32)) {
      ScoreJob.score(model, longs(c.get("input_ids")), longs(c.get("position_ids")), 8, 7, out, progress::add);
    }
    assertTrue(maxAbsDiff(c.get("logits"), JSON.readTree(out.toByteArray()).get("logits")) <= 1e-4);
    int segments = (c.get("input_ids").size() + 6) / 7;
    assertEquals(segments + 1, progress.size(), progress.toString());
    assertTrue(progress.get(0).matches("score: 40 tokens in 6 segments of 7: about .* of memory besides the weights"
        + " \\(KV cache .*\\), .* TFLOP, about \\d+:\\d\\d:\\d\\d at the .* GFLOP/s a 256-token pass took now on .*"), progress.get(0));
    assertTrue(progress.get(1).matches("score: 7/40 tokens in \\d+:\\d\\d:\\d\\d, ETA \\d+:\\d\\d:\\d\\d"), progress.get(1));
    assertTrue(progress.get(segments).matches("score: 40/40 tokens in .*, ETA 0:00:00"), progress.get(segments));
  }

  @Test
  void positionsBeyondWhatTheRopeRepresentsAreRefused() {
    String model = GOLDEN.resolve("llama-gqa-yarn").toString();
    Result r = longctx("score", "--model", model, "--input-ids", "1,2", "--position-ids", "0,2147483647");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--position-ids: 2147483647 is beyond what rotary positions represent exactly"
        + " (float32: below 16777216)"), r.err());
    r = longctx("score", "--model", model, "--input-ids", "1,2", "--position-ids", "0,16777215");
    assertEquals(0, r.status(), r.err());
  }

  /** A config.json far off its weights (100,000 layers): one short line, not millions of names. */
  @Test
  void aModelWithMillionsOfMissingTensorsGetsAShortMessage() throws Exception {
    Path model = dir.resolve("huge-config");
    Files.createDirectories(model);
    Path golden = GOLDEN.resolve("llama-gqa-yarn");
    Files.copy(golden.resolve("model.safetensors"), model.resolve("model.safetensors"));
    com.fasterxml.jackson.databind.node.ObjectNode config = (com.fasterxml.jackson.databind.node.ObjectNode)
        JSON.readTree(golden.resolve("config.json").toFile());
    config.put("num_hidden_layers", 100000);
    Files.writeString(model.resolve("config.json"), config.toString());
    Result r = longctx("score", "--model", model.toString(), "--input-ids", "1,2");
    assertEquals(1, r.status(), r.err());
    assertTrue(r.err().contains("missing 899982 tensors, the first 5: [model.layers.10.input_layernorm.weight,"), r.err());
    assertTrue(r.err().length() < 1000, r.err().length() + " characters: " + r.err());
    assertTrue(r.err().lines().findFirst().orElseThrow().endsWith("..."), "the reason is one line: " + r.err());
  }

  @Test
  void badCommandLinesSayWhatIsWrong() {
    String model = GOLDEN.resolve("llama-gqa-yarn").toString();
    Result r = longctx("score", "--model", model, "--input-ids", "1,500");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("id 500 is outside the vocabulary (0..127)"), r.err());
    r = longctx("score", "--model", model, "--input-ids", "1,x");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--input-ids must be comma-separated integers"), r.err());
    r = longctx("score", "--model", model, "--input-ids", "1,2", "--position-ids", "0");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("give one position per id"), r.err());
    r = longctx("score", "--input-ids", "1");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("missing --model"), r.err());
    r = longctx("score", "--model", dir.resolve("nothing").toString(), "--input-ids", "1");
    assertEquals(1, r.status());
    assertTrue(r.err().contains("no such folder"), r.err());
    r = longctx("export", "--from", model, "--out", dir.resolve("x").toString(), "--dtype", "int8");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--dtype must be float32, float16 or bfloat16"), r.err());
  }
}
