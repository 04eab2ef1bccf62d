package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code longctx train} as a user runs it, in a child JVM: a tiny pretrain run killed with
 * SIGTERM saves a checkpoint of the step it was in and exits 143; {@code --resume} continues
 * from exactly that step; a PoSE run then extends the pretrained model and exports the rope.
 */
@Tag("integration")
class TrainJobIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Process start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "-Dai.djl.offline=true", "-Xmx1g", "-cp", System.getProperty("java.class.path"), "org.longctx.jobs.Cli", "train"));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("child-" + System.nanoTime() + ".log").toFile()).start();
  }

  private Path config(String name, String body) throws IOException {
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, "name: " + name + "\noutput:\n  dir: " + dir.resolve(name) + "\n" + body);
    return file;
  }

  private static int lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file).size() : 0;
  }

  private static String latest(Path out) throws IOException {
    return Files.readString(out.resolve("checkpoints/latest")).strip();
  }

  @Test
  void sigtermSavesACheckpointAndResumeContinuesThere() throws Exception {
    Path yaml = config("tiny", """
        model:
          init: {hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64}
        train:
          recipe: pretrain
          steps: 100000
          lr: 1.0e-3
          batch_size: 2
          seq_len: 32
          checkpoint_every: 0
          log_every: 1
          synthetic: {fraction: 1.0, tasks: {passkey: 1.0, dependent: 1.0}, min_chars: 64, max_chars: 300}
        """);
    Path out = dir.resolve("tiny");
    Process p = start("--config", yaml.toString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (lines(out.resolve("metrics.jsonl")) < 3) {
      assertTrue(p.isAlive(), "the run ended before it was signalled");
      assertTrue(System.nanoTime() < deadline, "no progress within 120 s");
      Thread.sleep(100);
    }
    p.destroy(); // SIGTERM
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run did not stop after SIGTERM");
    assertEquals(143, p.exitValue(), "exit status after SIGTERM");
    int done = lines(out.resolve("metrics.jsonl"));
    assertTrue(done >= 3);
    assertEquals(String.format("step-%06d", done), latest(out), "the checkpoint is of the last finished step");
    JsonNode state = JSON.readTree(out.resolve("checkpoints").resolve(latest(out)).resolve("state.json").toFile());
    assertEquals(done, state.get("step").asInt());

    Process resumed = start("--config", yaml.toString(), "--resume", "--set", "train.steps=" + (done + 2));
    assertTrue(resumed.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, resumed.exitValue());
    List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertEquals(done + 2, metrics.size());
    for (int i = 0; i < metrics.size(); i++) {
      assertEquals(i + 1, JSON.readTree(metrics.get(i)).get("step").asInt(), "metrics line " + i);
    }
    assertEquals(String.format("step-%06d", done + 2), latest(out));
    assertTrue(Files.exists(out.resolve("hf/config.json")));
    assertTrue(Files.exists(out.resolve("summary.json")));

    // PoSE from that checkpoint folder: Lc 32 → Lt 128 with yarn, exported with the rope it trained
    Path pose = config("pose", """
        model:
          path: %s
        rope: {rope_type: yarn, factor: 2.0}
        train:
          recipe: pose
          steps: 3
          lr: 1.0e-3
          batch_size: 2
          seq_len: 32
          log_every: 1
          synthetic: {fraction: 1.0, tasks: {dependent: 1.0}, min_chars: 64, max_chars: 400}
        pose:
          target_len: 128
        """.formatted(out.resolve("checkpoints")));
    Process extended = start("--config", pose.toString());
    assertTrue(extended.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, extended.exitValue());
    JsonNode config = JSON.readTree(dir.resolve("pose/hf/config.json").toFile());
    assertEquals("yarn", config.get("rope_scaling").get("rope_type").asText());
    assertEquals(2.0, config.get("rope_scaling").get("factor").asDouble());
    assertEquals(64, config.get("rope_scaling").get("original_max_position_embeddings").asInt());
    assertEquals(128, config.get("max_position_embeddings").asInt());
    assertEquals(3, lines(dir.resolve("pose/metrics.jsonl")));
  }
}
