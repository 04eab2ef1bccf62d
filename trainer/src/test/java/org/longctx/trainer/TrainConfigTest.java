package org.longctx.trainer;

import org.longctx.trainer.recipes.Recipes;
import org.longctx.trainer.recipes.TrainingRun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every train: and model.init: key is checked with a message naming it. */
class TrainConfigTest {

  private static TrainConfig with(String recipe, int seqLen, String packing, String schedule, int warmup) {
    return new TrainConfig(recipe, 10, 1e-3, 0, 2, 1, seqLen, packing, schedule, warmup, 0, 0, 0.9, 0.95, 1e-8,
        1.0, 0, 1, 1, true, "float32", 1, null);
  }

  private static String error(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  @Test
  void poseNeedsATargetAtLeastSeqLenAndPretrainNone() {
    assertTrue(error(() -> new PoseConfig(128, 2).checkAgainst(with("pose", 256, "split", "cosine", 0)))
        .startsWith("pose.target_len: the pose recipe needs Lt ≥ train.seq_len (256), got 128"));
    assertTrue(error(() -> new PoseConfig(0, 2).checkAgainst(with("pose", 256, "split", "cosine", 0)))
        .startsWith("pose.target_len: the pose recipe needs Lt ≥ train.seq_len (256), got 0"), "an unset target is refused");
    assertTrue(error(() -> new PoseConfig(2048, 300).checkAgainst(with("pose", 256, "split", "cosine", 0))).startsWith("pose.chunks"));
    TrainingRun pretrainWithPose = new TrainingRun(with("pretrain", 256, "split", "cosine", 0), ModelConfig.defaults(),
        org.longctx.data.DataConfig.defaults(), null, new PoseConfig(1024, 2), null, java.nio.file.Path.of("out"), false, null, null);
    assertTrue(error(() -> Recipes.byName("pretrain").validate(pretrainWithPose)).startsWith("pose.target_len: only the pose recipe uses it"));
    new PoseConfig(2048, 2).checkAgainst(with("pose", 256, "split", "cosine", 0)); // Lt ≥ Lc passes
  }

  @Test
  void namedValuesAreChecked() {
    assertTrue(error(() -> with("longrope", 256, "split", "cosine", 0)).startsWith("recipe: 'longrope' is not allowed; allowed: pretrain, pose, fot"));
    assertTrue(error(() -> with("pretrain", 256, "tight", "cosine", 0)).startsWith("packing: 'tight'"));
    assertTrue(error(() -> with("pretrain", 256, "split", "step", 0)).startsWith("schedule: 'step'"));
    assertTrue(error(() -> with("pretrain", 256, "split", "cosine", 11)).startsWith("warmup_steps: must be in [0, steps = 10]"));
    assertTrue(error(() -> with("pretrain", 1, "split", "cosine", 0)).startsWith("seq_len: must be ≥ 2"));
  }

  @Test
  void clippingZeroMeansNone() {
    assertEquals(Double.POSITIVE_INFINITY, new TrainConfig("pretrain", 10, 1e-3, 0, 2, 1, 16, "split", "cosine", 0, 0, 0,
        0.9, 0.95, 1e-8, 0, 0, 1, 1, true, "float32", 1, null).clippingThreshold());
    assertTrue(error(() -> new TrainConfig("pretrain", 10, 1e-3, 0, 2, 1, 16, "split", "cosine", 0, 0, 0, 0.9, 0.95, 1e-8,
        -1, 0, 1, 1, true, "float32", 1, null)).startsWith("max_grad_norm"));
  }

  @Test
  void syntheticMixNamesGeneratorsAndNeedsAWeight() {
    assertEquals("synthetic.tasks: 'repeat' is not a generator; allowed: passkey, multikey, dependent, copy",
        error(() -> new TrainConfig.Synthetic(0.5, Map.of("repeat", 1.0), 64, 128, 5)));
    assertTrue(error(() -> new TrainConfig.Synthetic(0.5, Map.of("passkey", 0.0), 64, 128, 5)).startsWith("synthetic.tasks: fraction is 0.5 but no generator"));
    assertTrue(error(() -> new TrainConfig.Synthetic(1.2, Map.of("passkey", 1.0), 64, 128, 5)).startsWith("synthetic.fraction"));
    assertTrue(error(() -> new TrainConfig.Synthetic(1.0, Map.of("passkey", 1.0), 64, 32, 5)).startsWith("synthetic.max_chars"));
  }

  @Test
  void initFillsDefaultsAndChecksShapes() {
    ModelConfig.Init d = ModelConfig.Init.defaults();
    assertEquals(259, d.vocabSize());
    assertEquals(4, d.numKeyValueHeads());
    assertEquals(32, d.headDim());
    assertTrue(error(() -> new ModelConfig.Init(null, 100, null, null, 3, null, null, null, null, null, null, null, null, null))
        .startsWith("hidden_size: must be num_attention_heads (3)"));
    assertTrue(error(() -> new ModelConfig.Init(null, null, null, null, 4, 3, null, null, null, null, null, null, null, null))
        .startsWith("num_key_value_heads: must divide"));
    assertTrue(error(() -> new ModelConfig.Init(null, null, null, null, null, null, null, null, null, null, null, 300, null, null))
        .startsWith("bos_token_id: must be in [0, vocab_size = 259)"));
  }
}
