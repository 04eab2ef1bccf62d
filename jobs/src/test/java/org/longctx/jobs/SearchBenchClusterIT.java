package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench search --master} through spark-submit on a real standalone cluster of two
 * one-core workers: the candidates are scored on one executor and then on two, with the same
 * perplexities, and the parallel efficiency is reported.
 */
@Tag("integration")
class SearchBenchClusterIT {

  @Test
  void scoresOnOneAndOnTwoExecutors(@TempDir Path dir) throws Exception {
    Path model = EvalJobIT.setUp(dir, "local[2]").getParent().resolve("model");
    Path yaml = dir.resolve("search.yaml");
    Files.writeString(yaml, """
        name: bench-search-it
        model: {path: %s}
        search: {target_length: 512, documents: 1, data: "synth:copy", seed: 1}
        """.formatted(model));
    try (StandaloneCluster cluster = StandaloneCluster.start(2)) {
      StandaloneCluster.Submission run = cluster.submit(BenchJob.class, List.of("search", "--config", yaml.toString(),
          "--master", cluster.masterUrl(), "--executors", "2", "--candidates", "4"));
      assertEquals(0, run.exitCode(), () -> run.output() + "\n" + cluster.logs());
      String out = run.output();
      assertTrue(out.contains("on 1 executor and 2 executors of " + cluster.masterUrl()), out);
      assertTrue(out.contains("  1 executor: "), out);
      assertTrue(out.contains("  2 executors: "), out);
      // the bench refuses to report when the two runs disagree, so this line means equal perplexities
      assertTrue(out.contains("executors: parallel efficiency"), out);
    }
  }
}
