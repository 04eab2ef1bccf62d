package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.longctx.checkpoints.LlamaConfig.Architecture;
import org.junit.jupiter.api.Test;

/**
 * Logits of {@link LlamaModel} against transformers' on models transformers saved
 * ({@code tools/reference/model_fixtures.py}): within 1e-4 absolute in float32.
 */
class LlamaModelParityTest {
  static final double TOLERANCE = 1e-4;

  static float[] logits(LlamaModel model, long[] ids, long[] positions) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray input = m.create(ids, new Shape(1, ids.length));
      NDArray pos = positions == null ? null : m.create(positions, new Shape(1, positions.length));
      NDArray out = model.forward(input, pos);
      assertEquals(new Shape(1, ids.length, model.config().vocabSize()), out.getShape());
      return out.toType(DataType.FLOAT32, false).toFloatArray();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama-gqa-yarn", "qwen2-bias-tied", "mistral-sharded", "llama3-bf16"})
  void matchesTransformersInFloat32(String fixture) throws IOException {
    try (LlamaModel model = ModelWeights.load(Golden.folder(fixture).toString(), Precision.FLOAT32)) {
      for (Golden.Case c : Golden.cases(fixture)) {
        // whole sequence at once, then queries in chunks of 7 (several chunks and a ragged last one)
        for (int chunk : new int[] {0, 7}) {
          model.setAttentionChunk(chunk);
          double diff = Golden.maxAbsDiff(c.logits(), logits(model, c.inputIds(), c.positionIds()));
          assertTrue(diff <= TOLERANCE, fixture + "/" + c.name() + " chunk " + chunk + ": max |Δ| = " + diff);
        }
      }
    }
  }

  @Test
  void fixturesCoverWhatTheyClaim() throws IOException {
    try (LlamaModel llama = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
        LlamaModel qwen = ModelWeights.load(Golden.folder("qwen2-bias-tied").toString(), Precision.FLOAT32);
        LlamaModel mistral = ModelWeights.load(Golden.folder("mistral-sharded").toString(), Precision.FLOAT32)) {
      assertEquals("yarn", llama.config().rope().ropeType());
      assertTrue(llama.config().numKeyValueHeads() < llama.config().numAttentionHeads());
      assertTrue(Golden.find("llama-gqa-yarn", "long").inputIds().length > 16, "beyond yarn's original 16 positions");
      assertEquals(Architecture.QWEN2, qwen.config().architecture());
      assertTrue(qwen.config().tieWordEmbeddings() && qwen.config().qkvBias());
      assertTrue(qwen.parameters().get("blocks.0.attention.q.bias").abs().sum().getFloat() > 0, "biases are not zero");
      assertEquals(Architecture.MISTRAL, mistral.config().architecture());
    }
  }

  @Test
  void batchOfTwoMatchesEachSequence() throws IOException {
    Golden.Case a = Golden.find("llama-gqa-yarn", "long");
    Golden.Case b = Golden.find("llama-gqa-yarn", "long_b");
    try (LlamaModel model = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
        NDManager m = NDManager.newBaseManager()) {
      model.setAttentionChunk(9);
      long[] both = new long[a.inputIds().length * 2];
      System.arraycopy(a.inputIds(), 0, both, 0, a.inputIds().length);
      System.arraycopy(b.inputIds(), 0, both, a.inputIds().length, b.inputIds().length);
      float[] out = model.forward(m.create(both, new Shape(2, a.inputIds().length)), null).toFloatArray();
      int half = out.length / 2;
      assertTrue(Golden.maxAbsDiff(a.logits(), Arrays.copyOfRange(out, 0, half)) <= TOLERANCE);
      assertTrue(Golden.maxAbsDiff(b.logits(), Arrays.copyOfRange(out, half, out.length)) <= TOLERANCE);
    }
  }

  /**
   * bfloat16 weights read as float16 and run in float16: float16 keeps 3 more mantissa bits than
   * bfloat16, so the weights are exact, but every activation is rounded to float16 (relative
   * error ~5e-4 per operation over two layers), so only a loose agreement is expected.
   */
  @Test
  void float16InferenceStaysCloseToTheFloat32Reference() throws IOException {
    Golden.Case c = Golden.find("llama3-bf16", "long");
    try (LlamaModel model = ModelWeights.load(Golden.folder("llama3-bf16").toString(), Precision.FLOAT16)) {
      assertEquals(DataType.FLOAT16, model.parameters().get("embedding.weight").getDataType());
      double diff = Golden.maxAbsDiff(c.logits(), logits(model, c.inputIds(), null));
      assertTrue(diff <= 0.05, "float16 max |Δ| = " + diff);
    }
  }
}
