package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link RotaryEmbedding} on DJL: transformers' apply_rotary_pos_emb, float16 tables, caching, autograd. */
class RotaryEmbeddingTest {

  private static final Device CPU = Device.cpu();

  @Test
  void applyMatchesTransformers() {
    JsonNode a = Golden.ropeFixtures().get("apply");
    long[] shape = Golden.longs(a.get("q_shape"));
    float[][] cos = rows(a.get("cos"));
    float[][] sin = rows(a.get("sin"));
    float[] expected = Golden.floats(a.get("q_embed"));
    try (NDManager m = NDManager.newBaseManager(CPU)) {
      NDArray q = m.create(Golden.floats(a.get("q")), new Shape(shape)); // [1, 2, 4, 64]
      NDArray c = m.create(flatten(cos), new Shape(1, 1, cos.length, cos[0].length));
      NDArray s = m.create(flatten(sin), new Shape(1, 1, sin.length, sin[0].length));
      float[] actual = RotaryEmbedding.apply(q, c, s).toFloatArray();
      assertClose(expected, actual, 1e-6, "apply_rotary_pos_emb");
    }
  }

  @Test
  void float16TablesMatchTransformersWithinOneHalfPrecisionUlp() {
    JsonNode a = Golden.ropeFixtures().get("apply");
    Rope rope = HfRopeConfig.parse(a.get("config_v5"));
    long[] positions = Golden.longs(a.get("positions"));
    float[] expectedCos = flatten(rows(a.get("cos_float16")));
    float[] expectedSin = flatten(rows(a.get("sin_float16")));
    try (NDManager m = NDManager.newBaseManager(CPU); RotaryEmbedding rotary = new RotaryEmbedding(rope)) {
      RotaryEmbedding.CosSin cs = rotary.cosSin(m.create(new long[][] {positions}), DataType.FLOAT16, CPU);
      assertEquals(DataType.FLOAT16, cs.cos().getDataType());
      float[] cos = cs.cos().toType(DataType.FLOAT32, false).toFloatArray();
      float[] sin = cs.sin().toType(DataType.FLOAT32, false).toFloatArray();
      for (int i = 0; i < cos.length; i++) {
        // one float16 ulp near |x| ≤ 1.4: 2^-10 · 2^floor(log2|x|) ≤ 2^-10
        double ulp = Math.max(Math.pow(2, -24), Math.pow(2, Math.floor(Math.log(Math.abs(expectedCos[i]) + 1e-30) / Math.log(2)) - 10));
        double ulpSin = Math.max(Math.pow(2, -24), Math.pow(2, Math.floor(Math.log(Math.abs(expectedSin[i]) + 1e-30) / Math.log(2)) - 10));
        if (Math.abs(cos[i] - expectedCos[i]) > ulp || Math.abs(sin[i] - expectedSin[i]) > ulpSin) {
          fail("float16 [" + i + "]: cos " + cos[i] + " vs " + expectedCos[i] + ", sin " + sin[i] + " vs " + expectedSin[i]);
        }
      }
    }
  }

  @Test
  void batchRowsAreIndependentAndShapesAreBroadcastable() {
    Rope rope = new YarnRope(16, 10000, 8192, 4, 2048, 32, 1, null, null, null, true);
    try (NDManager m = NDManager.newBaseManager(CPU); RotaryEmbedding rotary = new RotaryEmbedding(rope)) {
      NDArray ids = m.create(new long[][] {{0, 1, 2}, {7, 3000, 5}});
      RotaryEmbedding.CosSin both = rotary.cosSin(ids, 8192, DataType.FLOAT32, CPU);
      assertEquals(new Shape(2, 1, 3, 16), both.cos().getShape());
      RotaryEmbedding.CosSin second = rotary.cosSin(m.create(new long[][] {{7, 3000, 5}}), 8192, DataType.FLOAT32, CPU);
      assertArrayEquals(second.cos().toFloatArray(), both.cos().get("1:2").toFloatArray());
      assertArrayEquals(second.sin().toFloatArray(), both.sin().get("1:2").toFloatArray());
      NDArray q = m.randomNormal(new Shape(2, 4, 3, 16));
      assertEquals(new Shape(2, 4, 3, 16), RotaryEmbedding.apply(q, both).getShape());
    }
  }

  @Test
  void tablesGrowWithoutChangingRowsAndTheDirectPathAgrees() {
    Rope rope = new DefaultRope(32, 10000, 2048);
    int d = 32;
    long[] probe = {0, 5, 100, 2047};
    try (NDManager m = NDManager.newBaseManager(CPU);
        RotaryEmbedding rotary = new RotaryEmbedding(rope);
        RotaryEmbedding fresh = new RotaryEmbedding(rope)) {
      // a full window builds the table; a longer batch grows it past 65536 rows
      float[] window = rotary.cosSin(m.arange(0, 2048, 1, DataType.INT64).reshape(1, -1), 2048, DataType.FLOAT32, CPU).cos().toFloatArray();
      assertEquals(List.of(2048L), rotary.cachedTableLengths());
      float[] grown = rotary.cosSin(m.arange(0, 70001, 1, DataType.INT64).reshape(1, -1), 2048, DataType.FLOAT32, CPU).cos().toFloatArray();
      assertEquals(List.of(131072L), rotary.cachedTableLengths());
      float[] fromTable = rotary.cosSin(m.create(new long[][] {probe}), 2048, DataType.FLOAT32, CPU).cos().toFloatArray();
      // a few far positions and a new instance take the direct path
      long huge = RotaryEmbedding.MAX_TABLE_ELEMENTS / d + 3;
      float[] withHuge = rotary.cosSin(m.create(new long[][] {{0, 5, 100, 2047, huge}}), 2048, DataType.FLOAT32, CPU)
          .cos().toFloatArray();
      assertEquals(List.of(131072L), rotary.cachedTableLengths(), "the far position did not grow the table");
      float[] direct = fresh.cosSin(m.create(new long[][] {probe}), 2048, DataType.FLOAT32, CPU).cos().toFloatArray();
      assertEquals(List.of(), fresh.cachedTableLengths(), "four positions are computed directly");
      for (int r = 0; r < probe.length; r++) {
        int p = (int) probe[r];
        for (int j = 0; j < d; j++) {
          float expected = window[p * d + j];
          assertEquals(expected, grown[p * d + j], 0f, "grown table, p=" + p);
          assertEquals(expected, fromTable[r * d + j], 0f, "table lookup, p=" + p);
          assertEquals(expected, withHuge[r * d + j], 0f, "direct path, p=" + p);
          assertEquals(expected, direct[r * d + j], 0f, "direct path of a fresh instance, p=" + p);
        }
      }
    }
  }

  @Test
  void longropeStartTokensKeepTheOriginalRowsWithoutAttentionFactor() {
    List<Double> shortF = List.of(1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.0, 4.0);
    List<Double> longF = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0);
    LongRope withStart = new LongRope(16, 10000, 16384, shortF, longF, 8, 2048, null, 4);
    LongRope without = new LongRope(16, 10000, 16384, shortF, longF, 8, 2048, null, 0);
    Rope original = new DefaultRope(16, 10000, 16384);
    long[][] ids = {{0, 1, 3, 4, 5, 3000}};
    for (long seqLen : new long[] {2048, 16384}) {
      try (NDManager m = NDManager.newBaseManager(CPU);
          RotaryEmbedding a = new RotaryEmbedding(withStart);
          RotaryEmbedding b = new RotaryEmbedding(without);
          RotaryEmbedding c = new RotaryEmbedding(original)) {
        float[] start = a.cosSin(m.create(ids), seqLen, DataType.FLOAT32, CPU).sin().toFloatArray();
        float[] scaled = b.cosSin(m.create(ids), seqLen, DataType.FLOAT32, CPU).sin().toFloatArray();
        float[] plain = c.cosSin(m.create(ids), seqLen, DataType.FLOAT32, CPU).sin().toFloatArray();
        int d = 16;
        for (int r = 0; r < ids[0].length; r++) {
          float[] expected = ids[0][r] < 4 ? plain : scaled;
          for (int j = 0; j < d; j++) {
            assertEquals(expected[r * d + j], start[r * d + j], 0.0f, "p=" + ids[0][r] + " [" + j + "] @ " + seqLen);
          }
        }
      }
    }
  }

  @Test
  void gradientFlowsThroughQueriesNotTables() {
    Rope rope = new LinearRope(8, 10000, 2048, 2);
    try (NDManager m = NDManager.newBaseManager(CPU); RotaryEmbedding rotary = new RotaryEmbedding(rope)) {
      NDArray q = m.randomNormal(new Shape(1, 2, 3, 8));
      q.setRequiresGradient(true);
      NDArray w = m.randomNormal(new Shape(1, 2, 3, 8));
      RotaryEmbedding.CosSin cs = rotary.cosSin(m.create(new long[][] {{2, 9, 40}}), DataType.FLOAT32, CPU);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = RotaryEmbedding.apply(q, cs).mul(w).sum();
        gc.backward(loss);
      }
      // d/dq Σ w·(q·cos + R(q)·sin) = w·cos + Rᵀ(w·sin), and Rᵀ = −R for rotate-half
      NDArray expected = w.mul(cs.cos()).sub(RotaryEmbedding.rotateHalf(w.mul(cs.sin())));
      assertClose(expected.toFloatArray(), q.getGradient().toFloatArray(), 1e-6, "gradient");
      assertTrue(!cs.cos().hasGradient() || cs.cos().getGradient().sum().getFloat() == 0f);
    }
  }

  @Test
  void rotateHalfSwapsHalvesNotPairs() {
    try (NDManager m = NDManager.newBaseManager(CPU)) {
      NDArray x = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(1, 1, 1, 6));
      assertArrayEquals(new float[] {-4, -5, -6, 1, 2, 3}, RotaryEmbedding.rotateHalf(x).toFloatArray());
    }
  }

  @Test
  void resultsBelongToTheCallersManagerAndBadInputsFail() {
    Rope rope = new DefaultRope(8, 10000, 2048);
    RotaryEmbedding rotary = new RotaryEmbedding(rope);
    RotaryEmbedding.CosSin cs;
    NDArray ids;
    try (NDManager m = NDManager.newBaseManager(CPU)) {
      ids = m.create(new long[][] {{0, 1}});
      cs = rotary.cosSin(ids, DataType.FLOAT32, CPU);
      assertTrue(!ids.isReleased(), "the caller's ids stay usable");
      assertThrows(IllegalArgumentException.class, () -> rotary.cosSin(m.create(new long[][] {{-1, 2}}), DataType.FLOAT32, CPU));
      assertThrows(IllegalArgumentException.class, () -> rotary.cosSin(m.create(new long[] {1, 2}), DataType.FLOAT32, CPU));
    }
    assertTrue(cs.cos().isReleased() && cs.sin().isReleased(), "closing the caller's manager frees cos/sin");
    rotary.close();
    try (NDManager m = NDManager.newBaseManager(CPU)) {
      assertThrows(IllegalStateException.class, () -> rotary.cosSin(m.create(new long[][] {{0}}), DataType.FLOAT32, CPU));
    }
  }

  private static float[][] rows(JsonNode array) {
    float[][] out = new float[array.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = Golden.floats(array.get(r));
    }
    return out;
  }

  private static float[] flatten(float[][] rows) {
    float[] out = new float[rows.length * rows[0].length];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * rows[0].length, rows[0].length);
    }
    return out;
  }

  private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > tolerance * Math.max(1, Math.abs(expected[i]))) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
      }
    }
  }
}
