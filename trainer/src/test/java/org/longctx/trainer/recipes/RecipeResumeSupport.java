package org.longctx.trainer.recipes;

import org.longctx.trainer.model.Precision;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.TrainConfig;

/** The resume comparison shared by {@link RecipeResumeTest} and {@link RecipeResumeIT}. */
final class RecipeResumeSupport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RecipeResumeSupport() {}

  /** Losses of metrics.jsonl, in step order. */
  static List<Double> metricLosses(Path out) throws IOException {
    return Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(l -> {
      try {
        return JSON.readTree(l).get("loss").asDouble();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).toList();
  }

  private static byte[] bytes(Path stepDir, String file) throws IOException {
    return Files.readAllBytes(stepDir.resolve(file));
  }

  /** Copies the checkpoint of {@code step} from one run's folder into a new one, as if that run had stopped there. */
  private static void copyCheckpoint(Path from, Path to, long step) throws IOException {
    String name = String.format("step-%06d", step);
    Path src = from.resolve("checkpoints").resolve(name);
    Path dst = to.resolve("checkpoints").resolve(name);
    Files.createDirectories(dst);
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : files.toList()) {
        Files.copy(f, dst.resolve(f.getFileName()));
      }
    }
    Files.writeString(to.resolve("checkpoints").resolve("latest"), name + "\n");
  }

  /** 20 straight steps vs 10 + resume + 10 of the same configuration. */
  static void resumesBitwise(Path dir, TrainConfig train, ModelConfig model, DataConfig data, RopeConfig rope,
      java.util.function.Function<TrainingRun, TrainingResult> recipe) throws IOException {
    Path straight = dir.resolve("straight");
    TrainingResult a = recipe.apply(RecipeFixtures.run(train, model, data, rope, straight, false));
    assertTrue(a.completed());
    assertEquals(20, a.losses().size());
    assertTrue(Files.isDirectory(straight.resolve("checkpoints/step-000010")), "checkpoint_every 10 kept step 10");

    Path resumed = dir.resolve("resumed");
    copyCheckpoint(straight, resumed, 10);
    TrainingResult b = recipe.apply(RecipeFixtures.run(train, model, data, rope, resumed, true));
    assertTrue(b.completed());
    assertEquals(a.losses().subList(10, 20), b.losses(), "losses of steps 11-20");
    assertEquals(metricLosses(straight).subList(10, 20), metricLosses(resumed));
    Path endA = straight.resolve("checkpoints/step-000020");
    Path endB = resumed.resolve("checkpoints/step-000020");
    assertArrayEquals(bytes(endA, "model.safetensors"), bytes(endB, "model.safetensors"), "weights after step 20");
    assertArrayEquals(bytes(endA, "optimizer.safetensors"), bytes(endB, "optimizer.safetensors"), "optimizer after step 20");
    JsonNode stateA = JSON.readTree(endA.resolve("state.json").toFile());
    JsonNode stateB = JSON.readTree(endB.resolve("state.json").toFile());
    assertEquals(stateA.get("data_cursor"), stateB.get("data_cursor"));
    assertEquals(stateA.get("rng"), stateB.get("rng"));
    // training did something: the loss moved and the weights differ from the step-10 ones
    assertNotEquals(a.losses().get(0), a.losses().get(19));
    assertTrue(!java.util.Arrays.equals(bytes(straight.resolve("checkpoints/step-000010"), "model.safetensors"),
        bytes(endA, "model.safetensors")));
  }

  static TrainingResult pretrain(TrainingRun run) {
    try {
      return TrainingSession.trainAlone(run);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static TrainingResult pose(TrainingRun run) {
    try {
      return TrainingSession.trainAlone(run);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A random base model of window 16 saved as a Hugging Face folder. */
  static Path baseModel(Path dir) throws IOException {
    return baseModel(dir.resolve("base"), RecipeFixtures.tinyInit(16));
  }

  /** A random base model of {@code init} saved as a Hugging Face folder. */
  static Path baseModel(Path folder, ModelConfig.Init init) throws IOException {
    LlamaConfig config = TrainingSession.initConfig(init, null, TokenizerSpec.byteLevel());
    try (LlamaModel m = LlamaModel.random(config, Precision.FLOAT32, 5, 0.02)) {
      Files.createDirectories(folder);
      ModelWeights.saveHuggingFace(m, Storage.path(folder), "float32", Long.MAX_VALUE, Storage.defaultConf());
    }
    return folder;
  }

}
