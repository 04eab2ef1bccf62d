package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.longctx.positional.Rope;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;

/** Views: the same weights under another rope or attention mode. */
class InferenceViewsTest {

  static float[] logits(LlamaModel m, long[] ids) {
    try (NDManager nd = NDManager.newBaseManager()) {
      return ReferenceLlama.flat(m.forward(nd.create(ids, new Shape(1, ids.length)), null));
    }
  }

  /** A view with rope X computes what a model built from a config naming X computes. */
  @Test
  void ropeOverrideEqualsAModelBuiltWithThatRope() throws IOException {
    long[] ids = Golden.find("qwen2-bias-tied", "long").inputIds();
    try (LlamaModel base = ModelWeights.load(Golden.folder("qwen2-bias-tied").toString(), Precision.FLOAT32)) {
      for (RopeConfig rc : new RopeConfig[] {RopeConfig.builder("default").build(),
          RopeConfig.builder("yarn").factor(4.0).originalMaxPositionEmbeddings(16).build(),
          RopeConfig.builder("ntk").factor(3.0).build()}) {
        Rope rope = rc.toRope(16, 1_000_000.0, 128);
        try (LlamaModel view = base.withRope(rc);
            LlamaModel built = LlamaModel.create(base.config().withRope(rope), Precision.FLOAT32,
                (t, m) -> base.parameters().get(t.ours()).duplicate())) {
          assertEquals(rope, view.config().rope(), "resolved with the model's rope_theta and max_position_embeddings");
          assertSame(base.parameters(), view.parameters(), "weights are shared, not copied");
          assertArrayEquals(logits(built, ids), logits(view, ids), rc.ropeType());
        }
      }
      // closing views left the weights alone; the base still matches transformers
      double diff = Golden.maxAbsDiff(Golden.find("qwen2-bias-tied", "long").logits(), logits(base, ids));
      assertTrue(diff <= 1e-4, "base after views: " + diff);
    }
  }

  @Test
  void settingsCombineRopeAndSelfExtend() throws IOException {
    try (LlamaModel base = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
        LlamaModel none = new InferenceSettings(RopeConfig.builder("default").build(), null).applyTo(base);
        LlamaModel both = base.with(new InferenceSettings(RopeConfig.builder("linear").factor(2.0).build(),
            new SelfExtend(2, 8)));
        LlamaModel same = base.with(InferenceSettings.NONE)) {
      assertEquals("default", none.config().rope().ropeType());
      assertNull(none.selfExtend());
      assertEquals("linear", both.config().rope().ropeType());
      assertEquals(new SelfExtend(2, 8), both.selfExtend());
      assertEquals(base.config(), same.config());
      long[] ids = Golden.find("llama-gqa-yarn", "long").inputIds();
      assertArrayEquals(logits(base, ids), logits(same, ids));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> base.withRope(RopeConfig.builder("default").build().toRope(8, 10000, 64)));
      assertTrue(e.getMessage().startsWith("rope:"), e.getMessage());
    }
  }
}
