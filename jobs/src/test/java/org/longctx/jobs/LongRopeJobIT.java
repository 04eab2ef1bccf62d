package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.search.FactorFile;
import org.longctx.trainer.recipes.StopSignal;

/**
 * The progressive pipeline end to end on local[2] with a tiny random model (window 256, head dim
 * 8): search 512 → PoSE fine-tune at 512 → search 1024 on the fine-tuned model → fine-tune at
 * 1024 → short factors at 256 → export; then the exported config.json, and reruns that skip
 * finished stages and re-enter an unfinished one.
 */
@Tag("integration")
class LongRopeJobIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private String yaml(Path model) {
    return """
        name: longrope-it
        spark: {master: "local[2]", spark.ui.enabled: false}
        model: {path: %s}
        data: {layout: documents}
        search: {population: 3, parents: 2, mutations: 1, crossovers: 1, iterations: 1, patience: 0, documents: 1,
                 data: "synth:copy", seed: 3, max_short_factor: 1.5}
        train:
          recipe: pose
          steps: 2
          lr: 1.0e-3
          batch_size: 2
          seq_len: 128
          warmup_steps: 1
          checkpoint_every: 1
          keep_checkpoints: 1
          log_every: 1
          synthetic: {fraction: 1.0, tasks: {copy: 1.0}, min_chars: 100, max_chars: 120}
        pose: {chunks: 2}
        longrope:
          stages:
            - {stage: search, length: 512}
            - {stage: train}
            - {stage: search, length: 1024, set: [search.mutations=2]}
            - {stage: train}
            - {stage: short}
            - {stage: export}
        """.formatted(model);
  }

  private String run(String yaml, Path out) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream progress = new PrintStream(log, true, StandardCharsets.UTF_8);
    int status = LongRopeJob.pipeline(yaml, "it", List.of(), out, false, StopSignal.manual(), progress);
    String text = log.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, text);
    return text;
  }

  @Test
  void runsEveryStageExportsBothListsAndResumes() throws Exception {
    Path model = EvalJobIT.setUp(dir, "local[2]").getParent().resolve("model");
    Path out = dir.resolve("pipeline");
    String yaml = yaml(model);
    String first = run(yaml, out);
    for (int i = 1; i <= 6; i++) {
      assertTrue(first.contains("longrope: stage " + i + "/6"), first);
    }

    // every stage finished, in its own folder, and the summary says so
    JsonNode summary = JSON.readTree(out.resolve("longrope.json").toFile());
    List<String> folders = new ArrayList<>();
    summary.get("stages").forEach(s -> {
      folders.add(s.get("folder").asText());
      assertEquals("done", s.get("state").asText(), s.toString());
    });
    assertEquals(List.of("1-search-512", "2-train-512", "3-search-1024", "4-train-1024", "5-short", "6-export"), folders);
    assertTrue(summary.get("stages").get(0).get("perplexity").has("yarn"));
    assertTrue(summary.get("stages").get(4).get("perplexity").has("short_best"));

    // the fine-tunes trained with the searched factors as the rope
    JsonNode trained = JSON.readTree(out.resolve("2-train-512/hf/config.json").toFile());
    FactorFile search1 = FactorFile.read(out.resolve("1-search-512/factors.json"));
    assertEquals(search1.longFactor(), doubles(longrope(trained).get("long_factor")));
    // the second search ran on the first fine-tune's model, seeded with the first factors
    FactorFile search2 = FactorFile.read(out.resolve("3-search-1024/factors.json"));
    assertTrue(search2.model().get("id").endsWith("2-train-512/hf"), search2.model().toString());
    assertEquals(out.resolve("1-search-512/factors.json").toAbsolutePath().toString(), search2.search().get("init_factors"));
    assertTrue(Files.readString(out.resolve("3-search-1024/search.jsonl")).contains("\"origin\":\"init\""));

    // the short factors: searched on the last fine-tune's model, for the second search's long factors, within [1, 1.5]
    FactorFile shortSet = FactorFile.read(out.resolve("5-short/factors.json"));
    assertEquals(search2.longFactor(), shortSet.longFactor());
    assertTrue(shortSet.model().get("id").endsWith("4-train-1024/hf"), shortSet.model().toString());
    double previous = 1;
    for (double f : shortSet.shortFactor()) {
      assertTrue(f >= previous && f <= 1.5, "non-decreasing within [1, max_short_factor]: " + shortSet.shortFactor());
      previous = f;
    }

    // the export: transformers' longrope with both lists, in both config generations
    JsonNode config = JSON.readTree(out.resolve("6-export/hf/config.json").toFile());
    int halfHeadDim = config.get("hidden_size").asInt() / config.get("num_attention_heads").asInt() / 2;
    assertEquals(4, halfHeadDim);
    JsonNode rope = longrope(config);
    assertEquals(halfHeadDim, rope.get("short_factor").size());
    assertEquals(halfHeadDim, rope.get("long_factor").size());
    assertEquals(shortSet.shortFactor(), doubles(rope.get("short_factor")));
    assertEquals(search2.longFactor(), doubles(rope.get("long_factor")));
    assertEquals(256, rope.get("original_max_position_embeddings").asInt());
    assertEquals(4.0, rope.get("factor").asDouble(), 1e-12);
    assertEquals(1024, config.get("max_position_embeddings").asInt());
    assertTrue(Files.isRegularFile(out.resolve("6-export/hf/model.safetensors")));

    // a rerun skips every finished stage and changes nothing
    byte[] factorsBefore = Files.readAllBytes(out.resolve("5-short/factors.json"));
    String again = run(yaml, out);
    assertEquals(6, again.split(": finished earlier", -1).length - 1, again);
    assertFalse(again.contains("search: generation"), "nothing is searched again: " + again);

    // an interrupted pipeline: the short search had saved its state but not finished, the export had not run
    Files.delete(out.resolve("5-short/stage.json"));
    Files.delete(out.resolve("6-export/stage.json"));
    String resumed = run(yaml, out);
    assertTrue(resumed.contains("longrope: stage 4/6 train at 1024 tokens: finished earlier"), resumed);
    assertTrue(resumed.contains("longrope: stage 5/6 short → "), resumed);
    assertFalse(resumed.contains("search: generation"), "the short search continues from its state, which had finished: " + resumed);
    assertTrue(resumed.contains("longrope: stage 6/6 export → "), resumed);
    assertEquals(new String(factorsBefore, StandardCharsets.UTF_8),
        Files.readString(out.resolve("5-short/factors.json")), "the continued search gives the same factors");
    assertTrue(Files.isRegularFile(out.resolve("6-export/stage.json")));
  }

  /** The longrope section of a config.json: transformers 5.x {@code rope_parameters}, else 4.x {@code rope_scaling}. */
  private static JsonNode longrope(JsonNode config) {
    JsonNode rope = config.has("rope_parameters") ? config.get("rope_parameters") : config.get("rope_scaling");
    assertEquals("longrope", rope.get("rope_type").asText(), config.toString());
    assertEquals(rope.get("long_factor"), config.get("rope_scaling").get("long_factor"), "both generations carry the same factors");
    return rope;
  }

  private static List<Double> doubles(JsonNode list) {
    List<Double> out = new ArrayList<>();
    list.forEach(v -> out.add(v.asDouble()));
    return out;
  }
}
