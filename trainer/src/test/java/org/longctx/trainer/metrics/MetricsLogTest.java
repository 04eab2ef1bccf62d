package org.longctx.trainer.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.trainer.optim.StepOutcome;

class MetricsLogTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void writesOneJsonLinePerStepAProgressLineAndASummary() throws Exception {
    AtomicLong clock = new AtomicLong(5_000_000_000L);
    List<String> console = new ArrayList<>();
    try (MetricsLog log = MetricsLog.open(dir, 10, 0, 2, clock::get, console::add)) {
      clock.addAndGet(2_000_000_000L);  // 2 s for 4096 tokens
      log.record(1, 3.5, 1e-4, 0.75, 4096, 65536, false, 0);
      clock.addAndGet(1_000_000_000L);  // 1 s
      log.record(2, 3.25, 2e-4, 0.5, 4096, 65536, false, 0);
      clock.addAndGet(1_000_000_000L);
      log.record(3, Double.NaN, 3e-4, 4096, new StepOutcome(Double.NaN, false, Double.NaN, false, 65536, 32768, 1, 2));
      TrainSummary summary = log.finish();

      List<String> lines = Files.readAllLines(dir.resolve(MetricsLog.METRICS_FILE));
      assertEquals(3, lines.size());
      JsonNode first = JSON.readTree(lines.get(0));
      List<String> keys = new ArrayList<>();
      first.fieldNames().forEachRemaining(keys::add);
      assertEquals(List.of("step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "loss_scale", "skipped",
          "skipped_steps", "elapsed_s"), keys);
      assertEquals(1, first.get("step").asLong());
      assertEquals(3.5, first.get("loss").asDouble());
      assertEquals(2048.0, first.get("tokens_per_s").asDouble());
      assertEquals(2.0, first.get("elapsed_s").asDouble());
      assertEquals(4096.0, JSON.readTree(lines.get(1)).get("tokens_per_s").asDouble());
      JsonNode third = JSON.readTree(lines.get(2));
      assertEquals("NaN", third.get("loss").asText());
      assertTrue(third.get("skipped").asBoolean());
      assertEquals(1, third.get("skipped_steps").asLong());
      assertEquals(Double.NaN, Double.parseDouble(third.get("grad_norm").asText()));

      // Step 1 (first of the run) and step 2 (every 2); not step 3.
      assertEquals(3, console.size(), console.toString());
      assertEquals("step 1/10 | loss 3.5000 | lr 1.00e-04 | grad_norm 0.750 | 2,048 tok/s | scale 65536 | ETA 0:00:18",
          console.get(0));
      assertTrue(console.get(1).startsWith("step 2/10 | loss 3.2500 |") && console.get(1).endsWith("ETA 0:00:12"),
          console.get(1));
      assertTrue(console.get(2).startsWith("done: 3/10 steps (3 this run, 1 skipped)"), console.get(2));

      assertEquals(3, summary.steps());
      assertEquals(1, summary.skippedSteps());
      assertEquals(3.375, summary.meanLossLast(), "mean of the finite losses");
      assertEquals(12288, summary.tokens());
      assertEquals(3072.0, summary.tokensPerS());
      JsonNode onDisk = JSON.readTree(dir.resolve(MetricsLog.SUMMARY_FILE).toFile());
      assertEquals(12288, onDisk.get("tokens").asLong());
      assertEquals(10, onDisk.get("total_steps").asLong());
    }
  }

  @Test
  void resumedRunAppendsAndEstimatesFromItsOwnSteps() throws Exception {
    AtomicLong clock = new AtomicLong();
    try (MetricsLog log = MetricsLog.open(dir, 4, 0, 1, clock::get, s -> { })) {
      clock.addAndGet(1_000_000_000L);
      log.record(1, 2.0, 1e-3, 0.1, 10, 1, false, 0);
    }
    List<String> console = new ArrayList<>();
    try (MetricsLog log = MetricsLog.open(dir, 4, 2, 1, clock::get, console::add)) {
      assertThrows(IllegalArgumentException.class, () -> log.record(2, 1.0, 1e-3, 0.1, 10, 1, false, 0));
      clock.addAndGet(10_000_000_000L);
      log.record(3, 1.5, 1e-3, 0.1, 10, 1, false, 0);
      assertTrue(console.get(0).endsWith("ETA 0:00:10"), console.get(0));
      clock.addAndGet(10_000_000_000L);
      log.record(4, 1.25, 1e-3, 0.1, 10, 1, false, 0);
      assertTrue(console.get(1).endsWith("ETA 0:00:00"), console.get(1));
    }
    assertEquals(3, Files.readAllLines(dir.resolve(MetricsLog.METRICS_FILE)).size());
  }

  /** A run killed after step 7 with its last checkpoint at 5, resumed: steps 6 and 7 appear once. */
  @Test
  void resumeDropsTheStepsAfterTheCheckpointAndALineCutByTheKill() throws Exception {
    AtomicLong clock = new AtomicLong();
    try (MetricsLog log = MetricsLog.open(dir, 10, 0, 1, clock::get, s -> { })) {
      for (int step = 1; step <= 7; step++) {
        clock.addAndGet(1_000_000_000L);
        log.record(step, 10.0 - step, 1e-3, 0.1, 10, 1, false, 0);
      }
    }
    Files.writeString(dir.resolve(MetricsLog.METRICS_FILE), "{\"step\":8,\"loss\":2.",
        java.nio.file.StandardOpenOption.APPEND);
    try (MetricsLog log = MetricsLog.open(dir, 10, 5, 1, clock::get, s -> { })) {
      for (int step = 6; step <= 10; step++) {
        clock.addAndGet(1_000_000_000L);
        log.record(step, 20.0 - step, 1e-3, 0.1, 10, 1, false, 0);
      }
    }
    List<String> lines = Files.readAllLines(dir.resolve(MetricsLog.METRICS_FILE));
    assertEquals(10, lines.size(), String.join("\n", lines));
    for (int i = 0; i < lines.size(); i++) {
      JsonNode row = JSON.readTree(lines.get(i));
      assertEquals(i + 1, row.get("step").asLong());
      assertEquals(i + 1 <= 5 ? 10.0 - (i + 1) : 20.0 - (i + 1), row.get("loss").asDouble(), "the resumed run's row wins");
    }
    assertFalse(Files.exists(dir.resolve(MetricsLog.METRICS_FILE + ".tmp")));
  }

  @Test
  void aResumeDropsTheStepsLoggedAfterItsCheckpointSoEachStepAppearsOnce() throws Exception {
    AtomicLong clock = new AtomicLong();
    try (MetricsLog log = MetricsLog.open(dir, 6, 0, 1, clock::get, s -> { })) {
      for (int step = 1; step <= 5; step++) {
        clock.addAndGet(1_000_000_000L);
        log.record(step, 10.0 - step, 1e-3, 0.1, 10, 1, false, 0);
      }
    }
    // a crash cut the last line in half
    Files.writeString(dir.resolve(MetricsLog.METRICS_FILE), "{\"step\": 6, \"lo", java.nio.file.StandardOpenOption.APPEND);
    // the checkpoint was step 3: steps 4 and 5 (and the cut line) run again
    try (MetricsLog log = MetricsLog.open(dir, 6, 3, 1, clock::get, s -> { })) {
      for (int step = 4; step <= 6; step++) {
        clock.addAndGet(1_000_000_000L);
        log.record(step, 1.0, 1e-3, 0.1, 10, 1, false, 0);
      }
    }
    List<Long> steps = new ArrayList<>();
    List<Double> losses = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve(MetricsLog.METRICS_FILE))) {
      JsonNode n = JSON.readTree(line);
      steps.add(n.get("step").asLong());
      losses.add(n.get("loss").asDouble());
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), steps);
    assertEquals(List.of(9.0, 8.0, 7.0, 1.0, 1.0, 1.0), losses, "the resumed run's lines replace the crashed run's");
  }

  @Test
  void durationFormat() {
    assertEquals("1:01:01", MetricsLog.duration(3661));
    assertEquals("?", MetricsLog.duration(Double.NaN));
    assertFalse(MetricsLog.duration(59.6).contains("?"));
  }
}
