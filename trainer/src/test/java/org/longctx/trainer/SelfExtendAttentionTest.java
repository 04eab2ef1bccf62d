package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.longctx.positional.SelfExtend;

/**
 * SelfExtend as an attention mode of {@link LlamaModel}, on the tiny GQA + yarn Llama that
 * transformers wrote: against methods.md §5's hand-checked positions, against a straightforward
 * per-pair implementation ({@link ReferenceLlama}), against the plain model when the window
 * covers the input, and between chunked, unchunked, prefill and decode.
 */
class SelfExtendAttentionTest {
  static final String FIXTURE = "llama-gqa-yarn";
  static final double TOLERANCE = 1e-4;

  static LlamaModel model;
  static ReferenceLlama reference;
  static long[] ids; // the fixture's 40-token "long" input

  @BeforeAll
  static void load() throws IOException {
    model = ModelWeights.load(Golden.folder(FIXTURE).toString(), Precision.FLOAT32);
    reference = new ReferenceLlama(model);
    ids = Golden.find(FIXTURE, "long").inputIds();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static float[] logits(LlamaModel m, long[] tokens) {
    try (NDManager nd = NDManager.newBaseManager()) {
      return ReferenceLlama.flat(m.forward(nd.create(tokens, new Shape(1, tokens.length)), null));
    }
  }

  static long[] range(int n) {
    return LongStream.range(0, n).toArray();
  }

  /** The straightforward implementation is itself right: plain RoPE reproduces transformers. */
  @Test
  void referenceReproducesTransformers() throws IOException {
    for (String fixture : new String[] {FIXTURE, "qwen2-bias-tied"}) {
      try (LlamaModel m = ModelWeights.load(Golden.folder(fixture).toString(), Precision.FLOAT32)) {
        ReferenceLlama ref = new ReferenceLlama(m);
        for (String name : new String[] {"long", "pose_positions"}) {
          if (Golden.cases(fixture).stream().noneMatch(c -> c.name().equals(name))) {
            continue;
          }
          Golden.Case c = Golden.find(fixture, name);
          long[] positions = c.positionIds() == null ? range(c.inputIds().length) : c.positionIds();
          double[][] expected = ref.logits(c.inputIds(), positions, m.config().rope());
          float[] transformers = new float[expected.length * expected[0].length];
          for (int i = 0; i < expected.length; i++) {
            System.arraycopy(c.logits()[i], 0, transformers, i * expected[0].length, expected[0].length);
          }
          double diff = ReferenceLlama.maxAbsDiff(expected, transformers);
          assertTrue(diff <= TOLERANCE, fixture + "/" + name + ": reference vs transformers max |Δ| " + diff);
        }
      }
    }
  }

  /** methods.md §5: L = 12, G = 2, W = 4; the model's logits are those of exactly this map. */
  @Test
  void matchesTheHandCheckedPositions() {
    SelfExtend se = new SelfExtend(2, 4);
    long[][] map = se.relativePositions(range(12), range(12));
    assertArrayEquals(new long[] {7, 7, 6, 6, 5, 5, 4, 4, 3, 2, 1, 0}, map[11]);
    long[][] decode = se.relativePositions(new long[] {12}, range(13));
    assertArrayEquals(new long[] {8, 8, 7, 7, 6, 6, 5, 5, 4, 3, 2, 1, 0}, decode[0]);

    long[] tokens = Arrays.copyOf(ids, 13);
    long[][] full = se.relativePositions(range(13), range(13));
    double[][] expected = reference.logits(tokens, model.config().rope(), 13, (i, j) -> full[i][j], null);
    try (LlamaModel extended = model.withSelfExtend(new SelfExtend(2, 4))) {
      float[] actual = logits(extended, tokens);
      double diff = ReferenceLlama.maxAbsDiff(expected, actual);
      assertTrue(diff <= TOLERANCE, "SelfExtend(2, 4) vs per-pair reference: max |Δ| " + diff);
      // the map matters: the plain model's logits are far from these
      double plainGap = ReferenceLlama.maxAbsDiff(expected, logits(model, tokens));
      assertTrue(plainGap > 100 * TOLERANCE, "SelfExtend must change the logits, gap " + plainGap);
    }
  }

  /**
   * A window G does not divide, query scaling on, chunks of 7: the model equals the per-pair
   * reference built from the methods.md formulas written out here (integer division).
   */
  @Test
  void equalsStraightforwardImplementation() {
    int g = 3;
    int w = 5;
    double scaleBase = 8;
    int n = ids.length;
    ReferenceLlama.RelativePosition merged = (i, j) -> {
      if (i - j < w) {
        return i - j;
      }
      long gq = i / g + w - w / g; // i ≥ w here
      long gk = j / g;
      return gq - gk;
    };
    double[] scale = new double[n];
    for (int i = 0; i < n; i++) {
      scale[i] = Math.max(1, Math.log(i + 1) / Math.log(scaleBase));
    }
    double[][] expected = reference.logits(ids, model.config().rope(), n, merged, scale);
    double[][] unscaled = reference.logits(ids, model.config().rope(), n, merged, null);
    try (LlamaModel scaled = model.withSelfExtend(new SelfExtend(g, w, scaleBase));
        LlamaModel plainScale = model.withSelfExtend(new SelfExtend(g, w))) {
      for (int chunk : new int[] {0, 7}) {
        scaled.setAttentionChunk(chunk);
        plainScale.setAttentionChunk(chunk);
        double diff = ReferenceLlama.maxAbsDiff(expected, logits(scaled, ids));
        assertTrue(diff <= TOLERANCE, "scale_base " + scaleBase + " chunk " + chunk + ": max |Δ| " + diff);
        double diffUnscaled = ReferenceLlama.maxAbsDiff(unscaled, logits(plainScale, ids));
        assertTrue(diffUnscaled <= TOLERANCE, "no scaling, chunk " + chunk + ": max |Δ| " + diffUnscaled);
      }
      assertTrue(ReferenceLlama.maxAbsDiff(expected, logits(plainScale, ids)) > 100 * TOLERANCE, "scale_base has an effect");
    }
  }

  @Test
  void windowCoveringTheInputReproducesThePlainModelExactly() {
    try (LlamaModel extended = model.withSelfExtend(new SelfExtend(4, ids.length))) {
      for (int chunk : new int[] {0, 7}) {
        model.setAttentionChunk(chunk);
        extended.setAttentionChunk(chunk);
        assertArrayEquals(logits(model, ids), logits(extended, ids), "chunk " + chunk);
      }
    } finally {
      model.setAttentionChunk(0);
    }
  }

  @Test
  void chunkedQueriesEqualUnchunked() {
    try (LlamaModel extended = model.withSelfExtend(new SelfExtend(2, 6, 20))) {
      float[] whole = logits(extended, ids);
      for (int chunk : new int[] {1, 5, 13, 39}) {
        extended.setAttentionChunk(chunk);
        float[] chunked = logits(extended, ids);
        double worst = 0;
        for (int i = 0; i < whole.length; i++) {
          worst = Math.max(worst, Math.abs(whole[i] - chunked[i]));
        }
        assertTrue(worst <= 1e-5, "chunk " + chunk + ": max |Δ| " + worst);
      }
    }
  }

  /** Decode (one query against cached un-rotated keys) equals the prefill's row for the same token. */
  @Test
  void decodeEqualsPrefill() {
    try (LlamaModel extended = model.withSelfExtend(new SelfExtend(3, 4, 10));
        NDManager nd = NDManager.newBaseManager()) {
      int vocab = model.config().vocabSize();
      float[] prefill = logits(extended, ids); // [40 × vocab], no cache
      try (KvCache cache = extended.newCache()) {
        assertTrue(!cache.keysRotated(), "SelfExtend caches keys un-rotated");
        NDArray first = extended.forward(nd.create(Arrays.copyOf(ids, 25), new Shape(1, 25)), null, cache);
        assertClose(Arrays.copyOf(prefill, 25 * vocab), ReferenceLlama.flat(first), 1e-5, "prefill through the cache");
        for (int t = 25; t < ids.length; t++) {
          NDArray step = extended.forward(nd.create(new long[] {ids[t]}, new Shape(1, 1)), null, cache);
          assertClose(Arrays.copyOfRange(prefill, t * vocab, (t + 1) * vocab), ReferenceLlama.flat(step), 1e-5, "decode " + t);
        }
        assertEquals(ids.length, cache.length());
        assertArrayEquals(range(ids.length), cache.positions(0));
      }
    }
  }

  /** Two sequences at once, the second at other positions: each row equals its own run. */
  @Test
  void batchRowsAreIndependent() {
    long[] b = Golden.find(FIXTURE, "long_b").inputIds();
    long[] shiftedPositions = LongStream.range(0, b.length).map(p -> p + 9).toArray();
    try (LlamaModel extended = model.withSelfExtend(new SelfExtend(2, 5));
        NDManager nd = NDManager.newBaseManager()) {
      extended.setAttentionChunk(11);
      long[] both = new long[ids.length + b.length];
      System.arraycopy(ids, 0, both, 0, ids.length);
      System.arraycopy(b, 0, both, ids.length, b.length);
      long[] positions = new long[both.length];
      System.arraycopy(range(ids.length), 0, positions, 0, ids.length);
      System.arraycopy(shiftedPositions, 0, positions, ids.length, b.length);
      float[] out = ReferenceLlama.flat(extended.forward(nd.create(both, new Shape(2, ids.length)),
          nd.create(positions, new Shape(2, ids.length))));
      int half = out.length / 2;
      assertClose(logits(extended, ids), Arrays.copyOf(out, half), 1e-5, "row 0");
      float[] alone = ReferenceLlama.flat(extended.forward(nd.create(b, new Shape(1, b.length)),
          nd.create(shiftedPositions, new Shape(1, b.length))));
      assertClose(alone, Arrays.copyOfRange(out, half, out.length), 1e-5, "row 1");
    }
  }

  @Test
  void float16StaysCloseToFloat32() throws IOException {
    try (LlamaModel half = ModelWeights.load(Golden.folder(FIXTURE).toString(), Precision.FLOAT16);
        LlamaModel extended16 = half.withSelfExtend(new SelfExtend(2, 4));
        LlamaModel extended32 = model.withSelfExtend(new SelfExtend(2, 4));
        NDManager nd = NDManager.newBaseManager()) {
      NDArray out = extended16.forward(nd.create(ids, new Shape(1, ids.length)), null);
      assertEquals(DataType.FLOAT16, out.getDataType());
      assertClose(logits(extended32, ids), ReferenceLlama.flat(out), 0.05, "float16");
    }
  }

  @Test
  void settingsNameTheBadKey() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(0, 4)).getMessage()
        .startsWith("group_size:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(2, 0)).getMessage()
        .startsWith("window_size:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(2, 4, 0.5)).getMessage()
        .startsWith("scale_base:"));
    assertEquals(new SelfExtend(2, 4).groupQueryPositions(range(12))[11], new SelfExtend(2, 4).groupQueryPosition(11));
  }

  static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(worst <= tolerance, what + ": max |Δ| " + worst);
  }
}
