package org.longctx.trainer.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.longctx.data.DataConfig;
import org.longctx.data.DataConfig.Layout;
import org.longctx.data.io.ShardFormat;
import org.longctx.data.io.ShardWriter;
import org.longctx.data.prepare.PartResult;
import org.longctx.data.prepare.PartStats;
import org.longctx.data.prepare.PartTask;
import org.longctx.data.prepare.PrepareManifest;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.FotConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.PoseConfig;
import org.longctx.trainer.TrainConfig;

/** Small configs and data for the recipe tests: models of a few thousand parameters, seconds per run. */
final class RecipeFixtures {
  private RecipeFixtures() {}

  /** A one-layer byte-level Llama: hidden 16, 2 heads, window {@code window}. */
  static ModelConfig.Init tinyInit(int window) {
    return new ModelConfig.Init(259, 16, 32, 1, 2, 1, window, 10000.0, 1e-5, false, 0.02, null, null, null);
  }

  /** A train section; every key the recipes read is set here. */
  static TrainConfig train(String recipe, int steps, int seqLen, String packing, int checkpointEvery,
      TrainConfig.Synthetic synthetic) {
    return new TrainConfig(recipe, steps, 1e-2, 7, 2, 2, seqLen, packing, "cosine", Math.min(3, steps), 0.1, 0.1, 0.9, 0.95,
        1e-8, 1.0, checkpointEvery, 2, 5, true, "float32", 1, synthetic);
  }

  static TrainConfig.Synthetic synthetic(double fraction) {
    return new TrainConfig.Synthetic(fraction, Map.of("passkey", 1.0, "dependent", 1.0), 64, 300, 5);
  }

  static TrainingRun run(TrainConfig train, ModelConfig model, DataConfig data, RopeConfig rope, Path out, boolean resume) {
    JsonNode experiment = new ObjectMapper().createObjectNode().set("train", new ObjectMapper().valueToTree(train));
    return new TrainingRun(train, model, data, rope, null, null, out, resume, experiment, StopSignal.manual());
  }

  /** {@code run} with a {@code pose:} section of target {@code targetLen} (2 chunks). */
  static TrainingRun withPose(TrainingRun run, int targetLen) {
    return new TrainingRun(run.train(), run.model(), run.data(), run.rope(), new PoseConfig(targetLen, 2), null, run.outputDir(),
        run.resume(), run.experiment(), run.stop());
  }

  /** {@code run} with an {@code fot:} section. */
  static TrainingRun withFot(TrainingRun run, FotConfig fot) {
    return new TrainingRun(run.train(), run.model(), run.data(), run.rope(), null, fot, run.outputDir(), run.resume(),
        run.experiment(), run.stop());
  }

  /**
   * Writes a finished prepare output by hand (shards, manifest, _SUCCESS) holding {@code docs},
   * as the prepare job would; returns its folder.
   */
  static Path preparedDataset(Path dir, List<int[]> docs) throws IOException {
    Files.createDirectories(dir);
    String name = ShardFormat.partName(0);
    PartStats stats = new PartStats();
    try (ShardWriter w = new ShardWriter(FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE), Layout.DOCUMENTS, "sha")) {
      for (int i = 0; i < docs.size(); i++) {
        w.addDocument("doc" + i, "prepared_src", "in:" + i, docs.get(i), docs.get(i).length);
      }
      stats.rows = w.rows();
      stats.rowTokens = w.tokens();
    }
    List<PartResult> parts = new ArrayList<>();
    parts.add(new PartResult(new PartTask(0, "in0", 0), name, "", stats));
    Files.write(dir.resolve("manifest.json"),
        PrepareManifest.toBytes(PrepareManifest.build(DataConfig.defaults(), TokenizerSpec.byteLevel(), parts)));
    Files.createFile(dir.resolve("_SUCCESS"));
    return dir;
  }

  /** Documents whose tokens name them: doc d = {1000 + d, d, d, ..., d} of 5 + d % 40 tokens. */
  static List<int[]> numberedDocs(int count) {
    List<int[]> docs = new ArrayList<>();
    for (int d = 0; d < count; d++) {
      int[] t = new int[5 + d % 40];
      java.util.Arrays.fill(t, d % 250);
      t[0] = 256; // BOS, as the prepare job writes it
      docs.add(t);
    }
    return docs;
  }
}
