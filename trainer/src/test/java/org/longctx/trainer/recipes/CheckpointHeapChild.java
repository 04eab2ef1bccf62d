package org.longctx.trainer.recipes;

import java.nio.file.Path;
import org.longctx.data.DataConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.TrainConfig;

/**
 * Run by {@link CheckpointHeapTest} in a JVM whose heap is smaller than the model's training
 * state: trains 2 steps straight, and 1 step + resume + 1 step, checkpointing every step (the
 * test compares the two step-2 checkpoints), and prints its heap limit.
 */
public final class CheckpointHeapChild {
  private CheckpointHeapChild() {}

  /** Hidden 512, 6 layers: 19 M parameters, 76 MB of float32 weights and 152 MB of AdamW moments. */
  static ModelConfig model() {
    return new ModelConfig("", "float32", 0,
        new ModelConfig.Init(259, 512, 1376, 6, 8, 8, 64, 10000.0, 1e-5, false, 0.02, null, null, null));
  }

  static TrainConfig train(int steps) {
    return new TrainConfig("pretrain", steps, 1e-3, 7, 2, 1, 16, "split", "constant", 0, 0.0, 0.1, 0.9, 0.95, 1e-8, 1.0,
        1, 3, 1, false, "float32", 1, RecipeFixtures.synthetic(1.0));
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    TrainingSession.trainAlone(RecipeFixtures.run(train(2), model(), DataConfig.defaults(), null, dir.resolve("straight"), false));
    TrainingSession.trainAlone(RecipeFixtures.run(train(1), model(), DataConfig.defaults(), null, dir.resolve("resumed"), false));
    TrainingSession.trainAlone(RecipeFixtures.run(train(2), model(), DataConfig.defaults(), null, dir.resolve("resumed"), true));
    System.out.println("max heap " + Runtime.getRuntime().maxMemory() + ";");
  }
}
