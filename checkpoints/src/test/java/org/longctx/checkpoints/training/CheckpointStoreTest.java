package org.longctx.checkpoints.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.longctx.checkpoints.safetensors.SafetensorsDtype;
import org.longctx.checkpoints.safetensors.TensorEntry;
import org.longctx.checkpoints.safetensors.TensorMismatchException;

class CheckpointStoreTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** Stands in for the process dying: an Error, so the save does not tidy up after itself. */
  static final class SimulatedCrash extends Error {
    SimulatedCrash(SaveStage stage) {
      super("simulated crash at " + stage);
    }
  }

  private static CheckpointContents contents(long step) {
    float base = step * 10;
    ObjectNode rng = JSON.createObjectNode().put("seed", 1234 + step);
    ObjectNode cursor = JSON.createObjectNode().put("shard", "part-0003.arrow").put("row", 17 * step);
    ObjectNode experiment = JSON.createObjectNode().put("name", "unit").put("lr", 3e-5);
    ObjectNode config = JSON.createObjectNode().put("model_type", "llama").put("hidden_size", 4);
    return new CheckpointContents(new TrainingState(step, rng, cursor, experiment), config,
        List.of(TensorEntry.ofFloats("model.embed_tokens.weight", new long[] {2, 2}, new float[] {base, base + 1, base + 2, base + 3}, SafetensorsDtype.F32),
            TensorEntry.ofFloats("model.norm.weight", new long[] {2}, new float[] {1, base}, SafetensorsDtype.F32)),
        List.of(TensorEntry.ofFloats("adam.m.model.norm.weight", new long[] {2}, new float[] {0.5f, step}, SafetensorsDtype.F32)));
  }

  private static void assertIsStep(LoadedCheckpoint c, long step) throws IOException {
    assertEquals(step, c.state().step());
    assertEquals(17 * step, c.state().dataCursor().get("row").asLong());
    assertEquals(1234 + step, c.state().rng().get("seed").asLong());
    assertEquals("unit", c.state().experiment().get("name").asText());
    assertEquals(4, c.modelConfig().get("hidden_size").asInt());
    try (NDManager m = NDManager.newBaseManager()) {
      float base = step * 10;
      assertArrayEquals(new float[] {base, base + 1, base + 2, base + 3}, c.weights().read(m, "model.embed_tokens.weight", DataType.FLOAT32).toFloatArray());
      assertArrayEquals(new float[] {0.5f, step}, c.optimizer().read(m, "adam.m.model.norm.weight", DataType.FLOAT32).toFloatArray());
    }
  }

  private List<String> entries() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void savesAndLoadsTheLatestStep() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    assertEquals(Optional.empty(), store.latestStep());
    store.save(contents(1));
    store.save(contents(2));
    assertEquals(List.of("latest", "step-000001", "step-000002"), entries());
    assertEquals("step-000002", Files.readString(dir.resolve("latest")).strip());
    assertEquals(List.of(1L, 2L), store.steps());
    try (LoadedCheckpoint c = store.loadLatest().orElseThrow()) {
      assertIsStep(c, 2);
    }
    try (LoadedCheckpoint c = store.load(1)) {
      assertIsStep(c, 1);
    }
    // the step directory is also a model folder: config.json + model.safetensors
    assertTrue(Files.exists(dir.resolve("step-000002/config.json")));
    assertTrue(Files.exists(dir.resolve("step-000002/model.safetensors")));
  }

  @ParameterizedTest
  @EnumSource(value = SaveStage.class, names = {"STARTED", "WEIGHTS_WRITTEN", "OPTIMIZER_WRITTEN", "BEFORE_COMMIT"})
  void aCrashBeforeTheCommitLeavesThePreviousCheckpointLatest(SaveStage crashAt) throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    store.save(contents(2));
    CheckpointStore crashing = store.withSaveObserver((stage, d) -> {
      if (stage == crashAt) {
        throw new SimulatedCrash(stage);
      }
    });
    assertThrows(SimulatedCrash.class, () -> crashing.save(contents(3)));
    // what the crash left: a temporary directory, ignored by readers
    assertTrue(entries().stream().anyMatch(n -> n.startsWith(".tmp-step-000003-")), entries().toString());
    assertEquals(List.of(1L, 2L), store.steps());
    assertEquals(Optional.of(2L), store.latestStep());
    try (LoadedCheckpoint c = store.loadLatest().orElseThrow()) {
      assertIsStep(c, 2);
    }
    // the next save clears the leftovers and succeeds
    store.save(contents(3));
    assertEquals(List.of("latest", "step-000001", "step-000002", "step-000003"), entries());
    try (LoadedCheckpoint c = store.loadLatest().orElseThrow()) {
      assertIsStep(c, 3);
    }
  }

  @Test
  void aCrashHalfwayThroughATensorLeavesThePreviousCheckpointLatest() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    CheckpointContents good = contents(2);
    // the second tensor's bytes never arrive: the first is on disk, the file is cut short
    TensorEntry dying = new TensorEntry("model.norm.weight", SafetensorsDtype.F32, new long[] {2}, () -> {
      throw new SimulatedCrash(SaveStage.STARTED);
    });
    CheckpointContents crashing = new CheckpointContents(good.state(), good.modelConfig(),
        List.of(good.weights().get(0), dying), good.optimizer());
    assertThrows(SimulatedCrash.class, () -> store.save(crashing));
    Path leftover = entries().stream().filter(n -> n.startsWith(".tmp-step-000002-")).map(dir::resolve).findFirst().orElseThrow();
    assertTrue(Files.size(leftover.resolve("model.safetensors")) > 0, "a partial weights file was written");
    assertEquals(Optional.of(1L), store.latestStep());
    try (LoadedCheckpoint c = store.loadLatest().orElseThrow()) {
      assertIsStep(c, 1);
    }
  }

  @Test
  void aCrashBetweenCommitAndPointerKeepsBothCheckpointsLoadable() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    assertThrows(SimulatedCrash.class, () -> store.withSaveObserver((stage, d) -> {
      if (stage == SaveStage.COMMITTED) {
        throw new SimulatedCrash(stage);
      }
    }).save(contents(2)));
    assertEquals("step-000001", Files.readString(dir.resolve("latest")).strip());
    assertEquals(Optional.of(1L), store.latestStep());
    try (LoadedCheckpoint c = store.load(2)) {
      assertIsStep(c, 2);
    }
  }

  @Test
  void anExceptionDuringSaveCleansUpAtOnce() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    IOException e = assertThrows(IOException.class, () -> store.withSaveObserver((stage, d) -> {
      if (stage == SaveStage.WEIGHTS_WRITTEN) {
        throw new IOException("disk full");
      }
    }).save(contents(2)));
    assertEquals("disk full", e.getMessage());
    assertEquals(List.of("latest", "step-000001"), entries());
  }

  @Test
  void aLatestPointerNamingNothingFallsBackToTheNewestCompleteStep() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    store.save(contents(2));
    Files.writeString(dir.resolve("latest"), "step-000009\n");
    assertEquals(Optional.of(2L), store.latestStep());
    Files.delete(dir.resolve("latest"));
    assertEquals(Optional.of(2L), store.latestStep());
    // a step whose files do not all match state.json (an unfinished copy) does not count
    byte[] weights = Files.readAllBytes(dir.resolve("step-000002/optimizer.safetensors"));
    Files.write(dir.resolve("step-000002/optimizer.safetensors"), java.util.Arrays.copyOf(weights, weights.length - 4));
    assertEquals(Optional.of(1L), store.latestStep());
    IOException cut = assertThrows(IOException.class, () -> store.load(2));
    assertTrue(cut.getMessage().contains("optimizer.safetensors has " + (weights.length - 4) + " bytes, state.json recorded " + weights.length),
        cut.getMessage());
    Files.write(dir.resolve("step-000002/optimizer.safetensors"), weights);
    assertEquals(Optional.of(2L), store.latestStep());
    Files.delete(dir.resolve("step-000002/state.json"));
    assertEquals(Optional.of(1L), store.latestStep());
    {
      IOException e = assertThrows(IOException.class, () -> store.load(2));
      assertTrue(e.getMessage().contains("no complete checkpoint for step 2"), e.getMessage());
      assertTrue(e.getMessage().contains("complete steps: [1]"), e.getMessage());
    }
  }

  @Test
  void savingTheSameStepAgainReplacesIt() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    CheckpointContents again = contents(1);
    CheckpointContents changed = new CheckpointContents(again.state(), again.modelConfig(),
        List.of(TensorEntry.ofFloats("model.embed_tokens.weight", new long[] {2, 2}, new float[] {7, 7, 7, 7}, SafetensorsDtype.F32),
            TensorEntry.ofFloats("model.norm.weight", new long[] {2}, new float[] {1, 1}, SafetensorsDtype.F32)),
        again.optimizer());
    store.save(changed);
    assertEquals(List.of("latest", "step-000001"), entries());
    try (LoadedCheckpoint c = store.load(1); NDManager m = NDManager.newBaseManager()) {
      assertArrayEquals(new float[] {7, 7, 7, 7}, c.weights().read(m, "model.embed_tokens.weight", DataType.FLOAT32).toFloatArray());
    }
  }

  @Test
  void shardedWeightsAndPruning() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString()).withMaxShardBytes(12);
    for (long s = 1; s <= 4; s++) {
      store.save(contents(s));
    }
    assertTrue(Files.exists(dir.resolve("step-000004/model.safetensors.index.json")));
    try (LoadedCheckpoint c = store.loadLatest().orElseThrow()) {
      assertIsStep(c, 4);
    }
    store.prune(2);
    assertEquals(List.of(3L, 4L), store.steps());
    assertEquals(List.of("latest", "step-000003", "step-000004"), entries());
  }

  @Test
  void mismatchedTensorsAreNamed() throws IOException {
    CheckpointStore store = CheckpointStore.at(dir.toString());
    store.save(contents(1));
    try (LoadedCheckpoint c = store.load(1)) {
      Map<String, long[]> expected = new LinkedHashMap<>();
      expected.put("model.embed_tokens.weight", new long[] {2, 3});
      expected.put("model.norm.weight", new long[] {2});
      expected.put("lm_head.weight", new long[] {2, 2});
      TensorMismatchException e = assertThrows(TensorMismatchException.class,
          () -> c.weights().requireExactly("model weights", expected, List.of()));
      assertTrue(e.getMessage().contains("model weights do not match"), e.getMessage());
      assertTrue(e.getMessage().contains("missing [lm_head.weight]"), e.getMessage());
      assertTrue(e.getMessage().contains("'model.embed_tokens.weight' has shape [2, 2] but [2, 3] is needed"), e.getMessage());
      assertFalse(e.getMessage().contains("model.norm.weight"), e.getMessage());
      expected.remove("lm_head.weight");
      expected.remove("model.norm.weight");
      expected.put("model.embed_tokens.weight", new long[] {2, 2});
      e = assertThrows(TensorMismatchException.class, () -> c.weights().requireExactly("model weights", expected, List.of()));
      assertTrue(e.getMessage().contains("not expected [model.norm.weight]"), e.getMessage());
      expected.put("model.norm.weight", new long[] {2});
      c.weights().requireExactly("model weights", expected, List.of());
      expected.remove("model.norm.weight");
      c.weights().requireExactly("model weights", expected, List.of("model.norm.*"));
    }
  }
}
