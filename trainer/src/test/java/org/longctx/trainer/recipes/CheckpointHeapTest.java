package org.longctx.trainer.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints stream tensor by tensor between the device and the file: a run whose weights and
 * AdamW state (228 MB) are nearly three times the JVM's heap (80 MB) saves, resumes and saves
 * again, in a child JVM started with that heap. Copying the whole state to the heap (as
 * checkpoints once did) fails there with "Java heap space".
 */
class CheckpointHeapTest {
  static final String HEAP = "80m";

  @TempDir Path dir;

  @Test
  void aStateLargerThanTheHeapIsSavedAndRestored() throws Exception {
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + HEAP, "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), CheckpointHeapChild.class.getName(),
        dir.toString());
    Path log = dir.resolve("child.log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the child did not finish in 300 s");
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), output);
    long heap = Long.parseLong(output.replaceAll("(?s).*max heap (\\d+);.*", "$1"));
    Path step = dir.resolve("resumed/checkpoints/step-000002");
    long state = Files.size(step.resolve("model.safetensors")) + Files.size(step.resolve("optimizer.safetensors"));
    assertTrue(state > 2 * heap, "the state (" + state + " bytes) must dwarf the child's heap (" + heap + " bytes)");
    for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
      assertEquals(-1, Files.mismatch(dir.resolve("straight/checkpoints/step-000002").resolve(file), step.resolve(file)),
          file + ": 1 step + resume + 1 step must equal 2 straight steps");
    }
  }
}
