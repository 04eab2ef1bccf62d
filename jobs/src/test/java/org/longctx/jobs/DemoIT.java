package org.longctx.jobs;

import org.longctx.trainer.model.Precision;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;

/**
 * The demo's orchestration end to end, shrunk: the built-in demo config with a random
 * window-128 base model, a few PoSE steps to 512, a few FoT steps with one memory layer and a
 * one-prompt-per-cell evaluation. Checks
 * that every stage ran and left what the next one and the user need; the demo's real figures
 * come from running it at full size.
 */
@Tag("integration")
class DemoIT {

  @Test
  void runsEveryStageAndLeavesTheReportAndTheExportedModel(@TempDir Path dir) throws Exception {
    Path base = dir.resolve("base");
    String json = """
        {"architectures": ["LlamaForCausalLM"], "vocab_size": 259, "hidden_size": 32, "intermediate_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-5, "tie_word_embeddings": false, "rope_theta": 10000.0, "bos_token_id": 256, "eos_token_id": 257}
        """;
    try (LlamaModel m = LlamaModel.random(LlamaConfig.fromHuggingFace(new ObjectMapper().readTree(json)), Precision.FLOAT32, 3, 0.02)) {
      ModelWeights.saveHuggingFace(m, Storage.path(base), "float32", Long.MAX_VALUE, Storage.defaultConf());
    }
    Path out = dir.resolve("demo");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int status;
    PrintStream stdout = System.out;
    try (PrintStream print = new PrintStream(console, true, StandardCharsets.UTF_8)) {
      System.setOut(print); // the demo's progress goes to standard output
      status = Cli.run(new String[] {"demo",
          "--set", "model.path=" + base, "--set", "output.dir=" + out, "--set", "spark.master=local[2]",
          "--set", "train.steps=2", "--set", "train.warmup_steps=0", "--set", "train.seq_len=128", "--set", "pose.target_len=512",
          "--set", "train.synthetic.min_chars=128", "--set", "train.synthetic.max_chars=500", "--set", "rope.original_max_position_embeddings=128",
          "--set", "search.target_length=512", "--set", "eval.lengths=[300, 512]", "--set", "eval.depths=[0.5]", "--set", "eval.trials=1",
          // 4× the window in both grids, so every method's claim is judged
          "--set", "eval.perplexity_lengths=[128, 512]", "--set", "eval.perplexity_documents=3",
          "--set", "eval.methods=[{name: base}, {name: yarn, rope: {rope_type: yarn, factor: 4.0, original_max_position_embeddings: 128}},"
              + " {name: self-extend, self_extend: {group_size: 4, window_size: 32}}]",
          // the FoT stage on the 2-layer, window-128 model: one memory layer, entries and last context within the window
          "--fot-set", "train.steps=2", "--fot-set", "train.warmup_steps=0", "--fot-set", "train.seq_len=64",
          "--fot-set", "fot.mem_layers=[1]", "--fot-set", "fot.last_context_length=64"}, print, print);
    } finally {
      System.setOut(stdout);
    }
    String text = console.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, status, text);
    for (String stage : DemoJob.STAGES) {
      assertTrue(text.contains("] " + stage + ": "), "progress line of " + stage);
    }
    assertTrue(Files.exists(out.resolve("prepared/_SUCCESS")), "prepare committed its output");
    assertTrue(Files.exists(out.resolve("pose/checkpoints/latest")), "PoSE saved a checkpoint");
    JsonNode exported = new ObjectMapper().readTree(out.resolve("pose-hf/config.json").toFile());
    assertEquals(512, exported.get("max_position_embeddings").asInt());
    assertEquals("yarn", exported.at("/rope_scaling/rope_type").asText(), exported.toString());
    assertTrue(Files.exists(out.resolve("pose-hf/model.safetensors")));
    assertTrue(Files.exists(out.resolve("pose-hf/tokenizer.json")));
    assertTrue(Files.exists(out.resolve("search/factors.json")), "the LongRoPE search stage wrote its factors");
    JsonNode results = new ObjectMapper().readTree(out.resolve("report/results.json").toFile());
    List<String> methods = List.of("base", "yarn", "self-extend", "longrope", "pose", "fot");
    assertEquals(methods.size(), results.get("methods").size());
    for (int i = 0; i < methods.size(); i++) {
      assertEquals(methods.get(i), results.at("/methods/" + i + "/name").asText());
      assertTrue(Files.size(out.resolve("report/passkey-" + methods.get(i) + ".png")) > 1000);
    }
    assertEquals(128, results.at("/methods/0/window").asInt(), "the base model's window");
    assertTrue(Files.exists(out.resolve("report/report.html")));
    assertTrue(Files.exists(out.resolve("report/perplexity.png")));
    assertEquals(methods.size() * 3 * 2, results.at("/perplexity/results").size(), "3 documents at 2 lengths per method");
    assertEquals(out.resolve("prepared").toString(), results.at("/perplexity/data").asText(),
        "perplexity on the held-out documents the synth and prepare stages made");
    assertTrue(Files.exists(out.resolve("synth/copy.jsonl.zst")) && Files.exists(out.resolve("synth/passkey.jsonl.zst")),
        "held-out documents of the kinds PoSE trains on");
    JsonNode fot = new ObjectMapper().readTree(out.resolve("fot/hf/config.json").toFile());
    assertEquals("[1]", fot.get("mem_layers").toString(), "the FoT stage exported a model with its memory layer");
    assertEquals(List.of(300, 512, 1024), intList(results.at("/passkey/lengths")), "the grid and FoT's 8× the window");
    assertEquals(methods.size() * 2 + 1, results.at("/passkey/results").size(), "every answer kept: FoT's at 1024 too");
    for (JsonNode answer : results.at("/passkey/results")) {
      assertTrue(answer.get("length").asInt() < 1024 || answer.get("method").asText().equals("fot"), "only FoT at 8×: " + answer);
    }
    JsonNode summary = new ObjectMapper().readTree(out.resolve("demo.json").toFile());
    assertTrue(summary.at("/seconds/total").asDouble() > 0);
    // one verdict per method but the base, whose claim needs a passkey length inside its window (no prompt fits 128 tokens)
    assertEquals(methods.size() - 1, summary.get("targets").size(), "one verdict per method: " + summary.get("targets"));
    for (int i = 1; i < methods.size(); i++) {
      assertTrue(summary.at("/targets/" + (i - 1)).asText().startsWith("target: " + methods.get(i) + " "), summary.get("targets").toString());
    }
    assertTrue(text.contains("target: pose         passkey at 4× the window (512)"), text);
    assertTrue(text.contains("target: fot          passkey at 8× the window (1024)"), text);
    assertTrue(text.matches("(?s).*eval: \\d+/\\d+ prompts and document prefixes, 100 % of the work, .* done.*"),
        "progress lines while the eval runs");
  }

  private static List<Integer> intList(JsonNode array) {
    List<Integer> out = new java.util.ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }
}
