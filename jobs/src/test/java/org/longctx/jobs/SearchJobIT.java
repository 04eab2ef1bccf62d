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
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.search.FactorFile;
import org.longctx.trainer.eval.ModelScorer;
import org.longctx.trainer.model.Precision;

/**
 * The search job end to end on local[2] with a tiny random model (window 256, searched for 512):
 * its outputs, perplexities equal to scoring without Spark, one model load per JVM for all
 * generations, and a continued search equal to an uninterrupted one.
 */
@Tag("integration")
class SearchJobIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private ExperimentConfig config(Path model, int iterations) {
    return ConfigLoader.parse("""
        name: search-it
        spark: {master: "local[2]", spark.ui.enabled: false}
        model: {path: %s}
        search:
          target_length: 512
          population: 6
          parents: 3
          mutations: 2
          crossovers: 2
          iterations: %d
          include_pi: true
          documents: 1
          data: synth:copy
          seed: 4
        """.formatted(model, iterations), "it", List.of());
  }

  @Test
  void searchesResumesAndMatchesScoringWithoutSpark() throws Exception {
    Path model = EvalJobIT.setUp(dir, "local[2]").getParent().resolve("model");
    Path resumed = dir.resolve("resumed");
    Path straight = dir.resolve("straight");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream progress = new PrintStream(log, true, StandardCharsets.UTF_8);
    SearchJob.Result first;
    SearchJob.Result continued;
    SearchJob.Result uninterrupted;
    long loadsBefore;
    long loadsAfter;
    try (SparkSession spark = SparkSessions.create(config(model, 1).spark(), "search-it")) {
      loadsBefore = ModelScorer.loads();
      first = SearchJob.execute(spark, SearchJob.prepare(config(model, 1)), resumed, progress);
      loadsAfter = ModelScorer.loads();
      // the same folder with more iterations continues from state.json
      continued = SearchJob.execute(spark, SearchJob.prepare(config(model, 3)), resumed, progress);
      uninterrupted = SearchJob.execute(spark, SearchJob.prepare(config(model, 3)), straight, progress);
    }
    assertEquals(1, loadsAfter - loadsBefore, "the executor reads the model once for every generation");
    String out = log.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("search: generation 1/1: 4 candidates"), out);
    assertTrue(out.contains("candidates/s"), out);

    // outputs
    for (String f : List.of("factors.json", "search.jsonl", "search.png", "state.json")) {
      assertTrue(Files.size(resumed.resolve(f)) > 0, f);
    }
    assertEquals(6 + 4, first.state().individuals().size());
    assertEquals(6 + 3 * 4, Files.readAllLines(resumed.resolve("search.jsonl")).size());
    JsonNode factors = JSON.readTree(resumed.resolve("factors.json").toFile());
    assertEquals(512, factors.get("target_length").asInt());
    assertEquals(256, factors.get("original_length").asInt());
    assertEquals("su", factors.get("mscale").asText());
    assertEquals(64, factors.get("model").get("sha256").asText().length());
    for (String k : List.of("start", "pi", "yarn", "best")) {
      assertTrue(factors.get("perplexity").get(k).asDouble() > 1, k);
    }

    // continued == uninterrupted, bit for bit (state and factors)
    assertEquals(uninterrupted.state().individuals(), continued.state().individuals());
    assertEquals(Files.readString(straight.resolve("search.jsonl")), Files.readString(resumed.resolve("search.jsonl")));

    // the best perplexity is what scoring its rope without Spark gives on the same documents
    FactorFile best = FactorFile.read(resumed.resolve("factors.json"));
    SearchJob.Prepared prepared = SearchJob.prepare(config(model, 3));
    double nll = 0;
    long tokens = 0;
    try (ModelScorer scorer = ModelScorer.load(model.toString(), Precision.FLOAT32)) {
      for (var doc : prepared.documents()) {
        double[] values = scorer.perplexity(new org.longctx.search.Genome(0,
            best.longFactor().stream().mapToDouble(Double::doubleValue).toArray()).toRope(prepared.space(), "su"), doc.ids()).nll();
        for (double v : values) {
          nll += v;
        }
        tokens += values.length;
      }
    }
    assertEquals(Math.exp(nll / tokens), best.perplexity().get("best"), 1e-9 * best.perplexity().get("best"));
  }

  @Test
  void missingTargetIsAConfigError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Cli.run(new String[] {"search", "--set", "model.path=models/none", "--out", dir.resolve("x").toString()},
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("longctx search: search.target_length: required"), err.toString());
  }
}
