package org.longctx.trainer.recipes;

import org.longctx.trainer.model.Precision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.TrainConfig;

/**
 * Float16 training (float16 compute, float32 master weights and loss) against the same
 * computation in float32: every parameter must receive its gradient (a DJL cast in the graph
 * would silently cut it) and the gradients and losses must agree to float16 precision.
 */
class Float16TrainingTest {
  static final float LOSS_SCALE = 1024f; // as the loss scaler does, so small float16 gradients survive

  @TempDir
  Path dir;

  @Test
  void everyParameterGetsTheFloat32GradientToHalfPrecision() {
    LlamaConfig config = TrainingSession.initConfig(
        new ModelConfig.Init(259, 32, 64, 2, 4, 2, 64, 10000.0, 1e-5, false, 0.02, null, null, null), null, TokenizerSpec.byteLevel());
    SplittableRandom r = new SplittableRandom(11);
    List<int[]> rows = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      rows.add(r.ints(40 - 7 * b, 0, 256).toArray());
    }
    Batch batch = Batch.of(rows, null, 258);
    Map<String, float[]> full = gradients(config, DataType.FLOAT32, batch);
    Map<String, float[]> half = gradients(config, DataType.FLOAT16, batch);
    assertEquals(full.keySet(), half.keySet());
    for (String name : full.keySet()) {
      double diff = 0;
      double norm = 0;
      float[] a = full.get(name);
      float[] b = half.get(name);
      for (int i = 0; i < a.length; i++) {
        diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
        norm += a[i] * (double) a[i];
      }
      assertTrue(norm > 0, name + ": no float32 gradient");
      double relative = Math.sqrt(diff / norm);
      assertTrue(relative < 0.03, name + ": float16 gradient differs from float32 by " + relative + " (relative L2)");
    }
  }

  /** Gradients of the batch's loss for a model initialised from the same seed, in float32. */
  private static Map<String, float[]> gradients(LlamaConfig config, DataType type, Batch batch) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (LlamaModel model = LlamaModel.random(config, Precision.of(type), 5, 0.02); NDManager scope = NDManager.newBaseManager()) {
      model.setTrainable(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss = batch.loss(model, scope);
        assertEquals(DataType.FLOAT32, loss.getDataType(), "the loss is float32 in both precisions");
        collector.backward(loss.mul(LOSS_SCALE));
      }
      for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
        float[] g = p.getValue().getGradient().toType(DataType.FLOAT32, true).toFloatArray();
        for (int i = 0; i < g.length; i++) {
          g[i] /= LOSS_SCALE;
        }
        out.put(p.getKey(), g);
      }
    }
    return out;
  }

  @Test
  void aFloat16RunFollowsTheFloat32Run() throws Exception {
    TrainConfig train = RecipeFixtures.train("pretrain", 4, 32, "split", 0, RecipeFixtures.synthetic(1.0));
    TrainingResult full = TrainingSession.trainAlone(RecipeFixtures.run(train, new ModelConfig("", "float32", 0, RecipeFixtures.tinyInit(64)),
        DataConfig.defaults(), null, dir.resolve("f32"), false));
    TrainingResult half = TrainingSession.trainAlone(RecipeFixtures.run(train, new ModelConfig("", "float16", 0, RecipeFixtures.tinyInit(64)),
        DataConfig.defaults(), null, dir.resolve("f16"), false));
    assertEquals(4, half.step());
    assertEquals(full.losses().size(), half.losses().size());
    for (int i = 0; i < full.losses().size(); i++) {
      double a = full.losses().get(i);
      double b = half.losses().get(i);
      assertTrue(Double.isFinite(b) && Math.abs(a - b) <= 0.01 * a, "step " + (i + 1) + ": float16 loss " + b + " vs float32 " + a);
    }
  }
}
