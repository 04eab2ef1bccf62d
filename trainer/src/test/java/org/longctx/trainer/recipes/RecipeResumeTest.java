package org.longctx.trainer.recipes;

import org.longctx.trainer.model.Precision;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.checkpoints.MemoryLayers;
import org.longctx.trainer.FotConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.TrainConfig;

/**
 * The recipes end to end on models of a few thousand parameters (seconds each): a run of 20
 * steps and a run stopped after 10 and resumed from its checkpoint give bitwise the same losses,
 * weights and optimizer state; stop requests, refusals. Longer variants: {@link RecipeResumeIT}.
 */
class RecipeResumeTest {
  @TempDir Path dir;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ModelConfig scratch() {
    return new ModelConfig("", "float32", 0, RecipeFixtures.tinyInit(32));
  }

  /** Float16 parameters: the master weights go to the checkpoint and come back tensor by tensor. */
  @Test
  void float16ResumesBitwiseWithItsMasterWeights() throws IOException {
    TrainConfig train = RecipeFixtures.train("pretrain", 20, 16, "split", 10, RecipeFixtures.synthetic(1.0));
    RecipeResumeSupport.resumesBitwise(dir, train, new ModelConfig("", "float16", 0, RecipeFixtures.tinyInit(32)),
        DataConfig.defaults(), null, RecipeResumeSupport::pretrain);
    try (org.longctx.checkpoints.safetensors.SafetensorsReader r = org.longctx.checkpoints.safetensors.SafetensorsReader.open(
        Storage.path(dir.resolve("resumed/checkpoints/step-000020")), "optimizer", Storage.defaultConf())) {
      assertTrue(r.names().stream().anyMatch(n -> n.startsWith("master.")), r.names().toString());
    }
  }

  @Test
  void pretrainResumesBitwiseWithSplitPacking() throws IOException {
    TrainConfig train = RecipeFixtures.train("pretrain", 20, 24, "split", 10, RecipeFixtures.synthetic(1.0));
    RecipeResumeSupport.resumesBitwise(dir, train, scratch(), DataConfig.defaults(), null, RecipeResumeSupport::pretrain);
    // the export is a model folder with the run's tokenizer
    Path hf = dir.resolve("straight/hf");
    assertTrue(Files.exists(hf.resolve("tokenizer.json")));
    try (LlamaModel m = ModelWeights.load(hf.toString(), Precision.FLOAT32)) {
      assertEquals(16, m.config().hiddenSize());
      assertEquals(256, m.config().bosTokenId());
    }
  }

  @Test
  void poseSamplesSkippedPositionsUpToTheTarget() throws IOException {
    // the examples PoSE builds: Lc tokens, increasing positions, the largest reaching beyond Lc
    Path base = RecipeResumeSupport.baseModel(dir);
    TrainConfig train = RecipeFixtures.train("pose", 1, 16, "split", 0, RecipeFixtures.synthetic(1.0));
    TrainingRun run = RecipeFixtures.withPose(RecipeFixtures.run(train, new ModelConfig(base.toString(), "float32", 0, null),
        DataConfig.defaults(), RopeConfig.builder("linear").factor(8.0).build(), dir.resolve("pose"), false), 128);
    TrainingResult r = TrainingSession.trainAlone(run);
    assertTrue(r.completed());
    assertTrue(Double.isFinite(r.losses().get(0)));
    long maxPosition = 0;
    try (var tokenizer = org.longctx.data.tokenizer.TextTokenizer.create(TokenizerSpec.byteLevel(), true);
        TrainingData data = TrainingData.open(train, DataConfig.defaults(), tokenizer, null)) {
      org.longctx.positional.PoseSampler sampler = new org.longctx.positional.PoseSampler(16, 128);
      for (int i = 0; i < 50; i++) {
        TrainingData.Document doc = data.nextDocument();
        org.longctx.positional.PoseSample s = sampler.sampleReference(Math.min(doc.tokens().length, 80),
            data.random(doc.index(), PoseRecipe.POSE_SALT));
        long[] p = s.positionIds();
        assertEquals(16, p.length);
        for (int k = 1; k < p.length; k++) {
          assertTrue(p[k] > p[k - 1]);
        }
        assertTrue(p[15] <= 127);
        maxPosition = Math.max(maxPosition, p[15]);
      }
    }
    assertTrue(maxPosition > 64, "skips reach far beyond Lc: " + maxPosition);
  }

  /** Two layers, two heads with their own keys (LongLLaMA has no grouped-query attention), window 16. */
  private Path memoryBase() throws IOException {
    return RecipeResumeSupport.baseModel(dir.resolve("base"),
        new ModelConfig.Init(259, 16, 32, 2, 2, 2, 16, 10000.0, 1e-5, false, 0.02, null, null, null));
  }

  @Test
  void fotResumesBitwiseAndWritesLongLlamaCheckpoints() throws IOException {
    Path base = memoryBase();
    TrainConfig train = RecipeFixtures.train("fot", 20, 16, "split", 10, RecipeFixtures.synthetic(1.0)); // 2 entries per micro-batch
    FotConfig fot = new FotConfig(List.of(1), 8, List.of(), 1, 2); // entry 1 attends to entry 0 of its document
    RecipeResumeSupport.resumesBitwise(dir, train, new ModelConfig(base.toString(), "float32", 0, null), DataConfig.defaults(),
        null, run -> RecipeResumeSupport.pretrain(RecipeFixtures.withFot(run, fot)));
    for (Path folder : List.of(dir.resolve("straight/checkpoints/step-000020"), dir.resolve("straight/hf"))) {
      JsonNode config = JSON.readTree(folder.resolve("config.json").toFile());
      assertEquals("LongLlamaForCausalLM", config.get("architectures").get(0).asText(), folder.toString());
      try (LlamaModel m = ModelWeights.load(folder.toString(), Precision.FLOAT32)) {
        assertEquals(MemoryLayers.of(List.of(1), 8), m.config().memory());
      }
    }
  }

  @Test
  void fotRefusesWhatItCannotTrain() throws IOException {
    Path base = memoryBase();
    ModelConfig model = new ModelConfig(base.toString(), "float32", 0, null);
    TrainConfig train = RecipeFixtures.train("fot", 2, 16, "split", 0, RecipeFixtures.synthetic(1.0));
    TrainingRun noLayers = RecipeFixtures.withFot(RecipeFixtures.run(train, model, DataConfig.defaults(), null, dir.resolve("a"),
        false), FotConfig.defaults());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSession.trainAlone(noLayers));
    assertTrue(e.getMessage().startsWith("fot.mem_layers: name the memory layers (e.g. [1]); the base model has none"),
        e.getMessage());
    TrainingRun oddPacking = RecipeFixtures.withFot(RecipeFixtures.run(train, model, DataConfig.defaults(), null, dir.resolve("b"),
        false), new FotConfig(List.of(1), 8, List.of(), 1, 3));
    e = assertThrows(IllegalArgumentException.class, () -> TrainingSession.trainAlone(oddPacking));
    assertTrue(e.getMessage().startsWith("fot.document_packing: must divide train.batch_size (2), got 3"), e.getMessage());
    TrainingRun scaled = RecipeFixtures.withFot(RecipeFixtures.run(train, model, DataConfig.defaults(),
        RopeConfig.builder("linear").factor(2.0).build(), dir.resolve("c"), false), new FotConfig(List.of(1), 8, List.of(), 1, 2));
    e = assertThrows(IllegalArgumentException.class, () -> TrainingSession.trainAlone(scaled));
    assertTrue(e.getMessage().startsWith("rope: the fot recipe keeps the model's rope"), e.getMessage());
  }

  @Test
  void aFreshRunRefusesAFolderWithCheckpointsAndResumeNeedsOne() throws IOException {
    TrainConfig train = RecipeFixtures.train("pretrain", 2, 16, "split", 0, RecipeFixtures.synthetic(1.0));
    Path out = dir.resolve("run");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, out, true)));
    assertTrue(e.getMessage().contains("no complete checkpoint"), e.getMessage());
    TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, out, false));
    e = assertThrows(IllegalArgumentException.class,
        () -> TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, out, false)));
    assertTrue(e.getMessage().contains("--resume"), e.getMessage());
  }

  /** A run killed before its first checkpoint left metrics; a fresh run there would append from step 1 again. */
  @Test
  void aFreshRunRefusesAFolderWithMetricsOfAnEarlierRun() throws IOException {
    TrainConfig train = RecipeFixtures.train("pretrain", 2, 16, "split", 0, RecipeFixtures.synthetic(1.0));
    Path out = dir.resolve("run");
    Files.createDirectories(out);
    Files.writeString(out.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":5.0}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, out, false)));
    assertTrue(e.getMessage().contains("metrics.jsonl") && e.getMessage().contains("output.overwrite"), e.getMessage());
    assertEquals(1, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "the earlier metrics are untouched");
  }

  @Test
  void aStopRequestSavesACheckpointAndTheResumedRunMatchesAStraightOne() throws IOException {
    TrainConfig train = RecipeFixtures.train("pretrain", 6, 16, "split", 0, RecipeFixtures.synthetic(1.0));
    TrainingResult straight = TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null,
        dir.resolve("a"), false));
    TrainingRun stopped = RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, dir.resolve("b"), false);
    stopped.stop().request("SIGTERM");
    TrainingResult first = TrainingSession.trainAlone(stopped);
    assertEquals("SIGTERM", first.stoppedBy());
    assertEquals(0, first.step());
    assertTrue(Files.exists(dir.resolve("b/checkpoints/step-000000/state.json")));
    assertEquals(null, first.export());
    TrainingResult rest = TrainingSession.trainAlone(RecipeFixtures.run(train, scratch(), DataConfig.defaults(), null, dir.resolve("b"), true));
    assertEquals(straight.losses(), rest.losses());
  }
}
