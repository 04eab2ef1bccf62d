package org.longctx.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * How attention is cut into query chunks, and that the eager kernel's result does not depend on
 * the cut: checked against causal attention written out as a plain double-precision loop.
 */
class AttentionChunkTest {

  /** A kernel that only notes the chunk size it is handed. */
  private static final class Noting implements AttentionKernel {
    final List<Long> chunks = new ArrayList<>();

    @Override
    public NDArray attend(AttentionInputs inputs, long chunk, boolean recording) {
      chunks.add(chunk);
      return inputs.queries();
    }
  }

  private static long autoChunk(NDManager m, long queries, long keys, int heads, boolean recording) {
    Noting kernel = new Noting();
    NDArray q = m.zeros(new Shape(1, heads, queries, 8));
    NDArray k = m.zeros(new Shape(1, heads, keys, 8));
    ForwardPass pass = new ForwardPass(m, null, Precision.FLOAT32, 1f, null, null, null, keys - 1, keys, keys - queries, kernel,
        false, 0, heads, recording);
    pass.attend(new AttentionInputs(q, k, k, 1f, new CausalMask(keys - queries)));
    return kernel.chunks.get(0);
  }

  @Test
  void cpuInferenceCutsChunksUnderItsOwnBudgetWhileTrainingKeepsTheLargerOne() {
    try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      // 4 heads × 8192 keys = 32768 scores per query: 2^22 / 32768 = 128 queries for inference
      assertEquals(128, autoChunk(m, 2048, 8192, 4, false));
      // while autograd records, 2^26 / 32768 = 2048: all the queries in one chunk, as before
      assertEquals(2048, autoChunk(m, 2048, 8192, 4, true));
      // a short input fits one chunk either way
      assertEquals(512, autoChunk(m, 512, 512, 4, false));
    }
  }

  @Test
  void theEagerKernelGivesCausalAttentionWhateverTheChunk() {
    int heads = 2;
    int queries = 37;
    int cached = 5; // keys before the first query
    int keys = cached + queries;
    int dim = 4;
    float scale = 0.5f;
    SplittableRandom random = new SplittableRandom(3);
    float[] q = new float[heads * queries * dim];
    float[] k = new float[heads * keys * dim];
    float[] v = new float[heads * keys * dim];
    for (float[] a : List.of(q, k, v)) {
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (random.nextDouble() * 4 - 2);
      }
    }
    // expected: query i (the token at index cached + i) sees keys 0 … cached + i
    double[] expected = new double[heads * queries * dim];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < queries; i++) {
        int visible = cached + i + 1;
        double[] w = new double[visible];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < visible; j++) {
          double dot = 0;
          for (int d = 0; d < dim; d++) {
            dot += q[(h * queries + i) * dim + d] * (double) k[(h * keys + j) * dim + d];
          }
          w[j] = dot * scale;
          max = Math.max(max, w[j]);
        }
        double sum = 0;
        for (int j = 0; j < visible; j++) {
          w[j] = Math.exp(w[j] - max);
          sum += w[j];
        }
        for (int d = 0; d < dim; d++) {
          double out = 0;
          for (int j = 0; j < visible; j++) {
            out += w[j] / sum * v[(h * keys + j) * dim + d];
          }
          expected[(h * queries + i) * dim + d] = out;
        }
      }
    }
    try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      AttentionInputs in = new AttentionInputs(m.create(q, new Shape(1, heads, queries, dim)),
          m.create(k, new Shape(1, heads, keys, dim)), m.create(v, new Shape(1, heads, keys, dim)), scale, new CausalMask(cached));
      for (long chunk : new long[] {queries, 16, 7, 1}) {
        float[] got = EagerKernel.INSTANCE.attend(in, chunk, false).toType(DataType.FLOAT32, false).toFloatArray();
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], got[i], 1e-5, "chunk " + chunk + ", value " + i);
        }
      }
    }
  }
}
