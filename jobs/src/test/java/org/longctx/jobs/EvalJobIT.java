package org.longctx.jobs;

import org.longctx.trainer.model.Precision;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.eval.EvalItem;
import org.longctx.trainer.eval.EvalOutput;
import org.longctx.trainer.eval.EvalPlan;
import org.longctx.trainer.eval.EvalRunner;
import org.longctx.trainer.eval.MethodSpec;
import org.longctx.trainer.eval.PasskeyPrompt;

/**
 * The eval job end to end on a tiny random model: on the embedded local[2] and through
 * spark-submit on a standalone cluster of two workers. Both must give exactly what running the
 * same plan without Spark gives, and the report must hold every chart.
 */
@Tag("integration")
class EvalJobIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> METHODS = List.of("base", "yarn", "se-wide", "se");

  /** A random byte-level Llama (window 256) with its tokenizer, and an eval config for it. */
  static Path setUp(Path dir, String master) throws Exception {
    Path model = dir.resolve("model");
    String json = """
        {"architectures": ["LlamaForCausalLM"], "vocab_size": 259, "hidden_size": 32, "intermediate_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
         "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_theta": 10000.0,
         "bos_token_id": 256, "eos_token_id": 257}
        """;
    if (!Files.exists(model)) {
      LlamaConfig config = LlamaConfig.fromHuggingFace(JSON.readTree(json));
      try (LlamaModel m = LlamaModel.random(config, Precision.FLOAT32, 5, 0.2)) {
        ModelWeights.saveHuggingFace(m, Storage.path(model), "float32", Long.MAX_VALUE, Storage.defaultConf());
      }
      ByteLevelTokenizer.writeTo(model);
    }
    Path yaml = dir.resolve("eval-" + master.replaceAll("[^a-z0-9]", "") + ".yaml");
    Files.writeString(yaml, """
        # bin/longctx eval --config %s
        name: eval-it
        spark:
          master: %s
          spark.ui.enabled: false
        model:
          path: %s
        eval:
          lengths: [300, 400]
          depths: [0.0, 1.0]
          trials: 2
          perplexity_lengths: [128, 256]
          perplexity_documents: 2
          seed: 9
          methods:
            - name: base
            - name: yarn
              rope: {rope_type: yarn, factor: 2.0, original_max_position_embeddings: 256}
            - name: se-wide
              self_extend: {group_size: 4, window_size: 4096}
            - name: se
              self_extend: {group_size: 4, window_size: 32}
        """.formatted(yaml, master, model));
    return yaml;
  }

  /** The plan's outputs computed here, one method after another, without Spark. */
  static Map<String, EvalOutput> direct(Path yaml, Path model) throws Exception {
    ExperimentConfig config = ConfigLoader.load(yaml, List.of());
    TokenizerSpec spec = TokenizerSpec.byteLevel();
    TextTokenizer tokenizer = TextTokenizer.shared(spec, true);
    PasskeyPrompt.Encoder encoder = PasskeyPrompt.Encoder.of(tokenizer, ByteLevelTokenizer.BOS_ID);
    List<MethodSpec> methods = new ArrayList<>();
    for (var m : config.eval().methods()) {
      methods.add(MethodSpec.of(m, Storage.path(model).toString()));
    }
    EvalPlan plan = EvalPlan.build(config.eval(), methods, encoder, new int[] {ByteLevelTokenizer.EOS_ID}, "float32", 0);
    Map<String, EvalOutput> out = new HashMap<>();
    for (MethodSpec m : methods) {
      for (EvalOutput o : EvalRunner.run(m, plan.items(), plan.inputs())) {
        EvalItem item = o.item();
        if (item.kind() == EvalItem.Kind.PASSKEY) {
          PasskeyPrompt p = plan.inputs().prompts().get(item.index());
          out.put(m.name() + "/passkey/" + p.length() + "/" + p.depth() + "/" + p.trial(), o);
        } else {
          out.put(m.name() + "/ppl/" + item.length() + "/" + item.index(), o);
        }
      }
    }
    return out;
  }

  /** results.json agrees with the direct outputs row by row, and the report is complete. */
  static JsonNode check(Path out, Map<String, EvalOutput> direct) throws Exception {
    JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
    for (String f : List.of("report.html", "passkey-by-length.png", "perplexity.png")) {
      assertTrue(Files.size(out.resolve(f)) > 1000, f);
    }
    String html = Files.readString(out.resolve("report.html"));
    for (String m : METHODS) {
      assertTrue(Files.size(out.resolve("passkey-" + m + ".png")) > 1000, m);
      assertTrue(html.contains("passkey-" + m + ".png"), m);
    }
    TextTokenizer tokenizer = TextTokenizer.shared(TokenizerSpec.byteLevel(), true);
    JsonNode passkey = results.at("/passkey/results");
    assertEquals(METHODS.size() * 2 * 2 * 2, passkey.size());
    Map<String, String> keys = new HashMap<>();
    for (JsonNode r : passkey) {
      String cell = r.get("length").asInt() + "/" + r.get("depth").asDouble() + "/" + r.get("trial").asInt();
      EvalOutput d = direct.get(r.get("method").asText() + "/passkey/" + cell);
      assertEquals(tokenizer.decode(d.generated()), r.get("answer").asText(), cell);
      assertEquals(r.get("length").asInt(), r.get("tokens").asInt(), "byte-level prompts hit the length exactly");
      String previous = keys.putIfAbsent(cell, r.get("key").asText());
      assertTrue(previous == null || previous.equals(r.get("key").asText()), "every method gets the same prompt: " + cell);
    }
    JsonNode ppl = results.at("/perplexity/results");
    assertEquals(METHODS.size() * 2 * 2, ppl.size());
    for (JsonNode r : ppl) {
      EvalOutput d = direct.get(r.get("method").asText() + "/ppl/" + r.get("length").asInt() + "/" + r.get("document").asInt());
      assertEquals(d.nllSum(), r.get("nll_sum").asDouble(), 1e-9 * Math.abs(d.nllSum()));
      assertEquals(r.get("length").asInt() - 1, r.get("predicted").asInt());
    }
    return results;
  }

  static double nll(JsonNode results, String method, int length) {
    double sum = 0;
    for (JsonNode r : results.at("/perplexity/results")) {
      if (r.get("method").asText().equals(method) && r.get("length").asInt() == length) {
        sum += r.get("nll_sum").asDouble();
      }
    }
    return sum;
  }

  @Test
  void runsOnEmbeddedLocalSparkAndMatchesTheDirectComputation(@TempDir Path dir) throws Exception {
    Path yaml = setUp(dir, "local[2]");
    Path out = dir.resolve("report");
    int status = Cli.run(new String[] {"eval", "--config", yaml.toString(), "--out", out.toString()}, System.out, System.err);
    assertEquals(0, status);
    JsonNode results = check(out, direct(yaml, dir.resolve("model")));
    assertEquals("local[2]", results.at("/run/master").asText());
    // two cores × EvalJob.SLICES_PER_CORE balanced slices; each method rounds its share up, so
    // at most one task more per method (EvalPlan.tasks)
    int slices = 2 * EvalJob.SLICES_PER_CORE;
    int tasks = results.at("/run/tasks").asInt();
    assertTrue(tasks >= slices && tasks <= slices + 4, "two cores, four methods: " + tasks + " tasks");
    // SelfExtend with a window covering the input is the plain model; a small window is not
    for (int length : List.of(128, 256)) {
      assertEquals(nll(results, "base", length), nll(results, "se-wide", length), 1e-9 * nll(results, "base", length));
      assertNotEquals(nll(results, "base", length), nll(results, "se", length), 1e-6 * nll(results, "base", length));
    }
    assertNotEquals(nll(results, "base", 256), nll(results, "yarn", 256), 1e-6 * nll(results, "base", 256));
    // a second run refuses the non-empty folder
    assertEquals(2, Cli.run(new String[] {"eval", "--config", yaml.toString(), "--out", out.toString()}, System.out, System.err));
  }

  @Test
  void runsOnAStandaloneClusterWithTwoWorkersLikeLocally(@TempDir Path dir) throws Exception {
    Path yaml = setUp(dir, "local[2]");
    Path out = dir.resolve("cluster-report");
    Map<String, EvalOutput> direct = direct(yaml, dir.resolve("model"));
    try (StandaloneCluster cluster = StandaloneCluster.start(2)) {
      StandaloneCluster.Submission run = cluster.submit(EvalJob.class, List.of("--config", yaml.toString(), "--out", out.toString()));
      assertEquals(0, run.exitCode(), () -> run.output() + "\n" + cluster.logs());
      JsonNode results = check(out, direct);
      assertEquals(cluster.masterUrl(), results.at("/run/master").asText());
      assertEquals(2, results.at("/run/executors").size(), "both workers evaluated: " + results.at("/run"));
    }
  }
}
