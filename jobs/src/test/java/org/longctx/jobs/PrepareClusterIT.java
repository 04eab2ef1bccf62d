package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark-submit --class org.longctx.jobs.PrepareJob} on a real standalone cluster (two
 * workers, separate executor JVMs): the same corpus, the same counts, rejects and rows as on
 * the embedded Spark.
 */
@Tag("integration")
class PrepareClusterIT {

  @Test
  void preparesTheDamagedCorpusOnAStandaloneCluster(@TempDir Path dir) throws Exception {
    PrepareCorpus corpus = new PrepareCorpus(dir);
    Path out = dir.resolve("prepared");
    try (StandaloneCluster cluster = StandaloneCluster.start(2)) {
      StandaloneCluster.Submission run = cluster.submit(PrepareJob.class,
          List.of("--config", corpus.yaml(out, "documents", "local[1]").toString()));
      assertEquals(0, run.exitCode(), () -> run.output() + "\n" + cluster.logs());
      assertTrue(run.output().contains("on " + cluster.masterUrl()), "ran on the cluster, not a local master");
    }
    corpus.checkDocumentsOutput(out);
  }
}
