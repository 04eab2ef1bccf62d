package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cluster-check on the embedded local Spark and through spark-submit on a real standalone cluster. */
@Tag("integration")
class ClusterCheckIT {

  @Test
  void runsOnEmbeddedLocalSpark(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("report.json");
    int status = Cli.run(new String[] {"cluster-check", "--tasks", "3", "--out", out.toString(),
        "--set", "spark.master=local[2]", "--set", "spark.ui.enabled=false"}, System.out, System.err);
    assertEquals(0, status);
    JsonNode report = new ObjectMapper().readTree(Files.readString(out));
    assertTrue(report.get("ok").asBoolean(), report.toString());
    assertEquals(3, report.get("tasks").asInt());
    assertEquals("local[2]", report.get("master").asText());
    assertTrue(report.get("engine").asText().startsWith("PyTorch"), report.toString());
  }

  @Test
  void runsOnStandaloneClusterWithTwoWorkers(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("report.json");
    try (StandaloneCluster cluster = StandaloneCluster.start(2)) {
      StandaloneCluster.Submission run = cluster.submit(ClusterCheckJob.class,
          List.of("--tasks", "8", "--out", out.toString()));
      assertEquals(0, run.exitCode(), () -> run.output() + "\n" + cluster.logs());
      JsonNode report = new ObjectMapper().readTree(Files.readString(out));
      assertTrue(report.get("ok").asBoolean(), report.toString());
      assertEquals(cluster.masterUrl(), report.get("master").asText());
      assertEquals(8, report.get("tasks").asInt());
      // two workers with one core each: both executors took tasks, in their own JVMs
      assertEquals(2, report.get("executors").size(), report.toString());
      assertEquals(2, report.get("processes").size(), report.toString());
    }
  }
}
