package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of the golden fixture (transformers' own ROPE_INIT_FUNCTIONS and rotary module, and
 * the independent derivation of ntk / yarn_pose) against this module:
 * <ul>
 *   <li>config.json in transformers 4 and 5 form parse to the identical variant, with the
 *       parameters transformers resolved;</li>
 *   <li>inv_freq and attention factor within 1e-6 relative of both the init function and the
 *       rotary module;</li>
 *   <li>the cos/sin computation fed transformers' own inv_freq within 1e-6 of its cos/sin;</li>
 *   <li>end to end, cos/sin within 1e-6 plus the float32 propagation of the inv_freq
 *       difference: an angle {@code p·inv} rounded to float32 carries {@code p·|Δinv|} plus one
 *       ulp of the angle, so at position 4095 a one-ulp difference in inv_freq legitimately moves
 *       cos by ~1e-4. When the inv_freq entries are bit-identical this is 1e-6 plus one angle ulp.</li>
 * </ul>
 */
class RopeFixtureParityTest {

  private static final double REL = 1e-6;
  private static final AtomicLong INV_ENTRIES = new AtomicLong();
  private static final AtomicLong INV_BIT_IDENTICAL = new AtomicLong();
  private static final DoubleAccumulator MAX_INV_REL = new DoubleAccumulator(Math::max, 0);
  private static final DoubleAccumulator MAX_PIPELINE_ABS = new DoubleAccumulator(Math::max, 0);
  private static final DoubleAccumulator MAX_END_TO_END_ABS = new DoubleAccumulator(Math::max, 0);

  @Test
  void fixtureRecordsItsReference() {
    JsonNode f = Golden.ropeFixtures();
    assertTrue(f.get("transformers").asText().startsWith("5."), "made by transformers 5.x: " + f.get("transformers"));
    assertTrue(f.get("torch").asText().length() > 0);
    assertEquals(0, f.get("problems").size(), "the script found v4/v5 mismatches: " + f.get("problems"));
  }

  @TestFactory
  Stream<DynamicTest> everyCase() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : Golden.ropeFixtures().get("cases")) {
      String name = c.get("name").asText();
      if (c.get("source").asText().equals("transformers")) {
        tests.add(DynamicTest.dynamicTest(name, () -> checkTransformersCase(c)));
      } else {
        tests.add(DynamicTest.dynamicTest(name + " (derived)", () -> checkDerivedCase(c)));
      }
    }
    return tests.stream();
  }

  @AfterAll
  static void report() {
    System.out.printf("rope parity: %d of %d inv_freq entries bit-identical to transformers, max relative "
        + "difference %.3g; cos/sin from transformers' inv_freq max |diff| %.3g; end to end (transformers cases) "
        + "max |diff| %.3g%n", INV_BIT_IDENTICAL.get(), INV_ENTRIES.get(), MAX_INV_REL.get(), MAX_PIPELINE_ABS.get(),
        MAX_END_TO_END_ABS.get());
  }

  private static void checkTransformersCase(JsonNode c) {
    String name = c.get("name").asText();
    Rope v5 = HfRopeConfig.parse(c.get("config_v5"));
    Rope v4 = HfRopeConfig.parse(c.get("config_v4"));
    assertEquals(v5, v4, name + ": the v4 and v5 config.json must parse to the same variant");
    assertEquals(c.get("head_dim").asInt(), v5.headDim(), name);

    JsonNode hf = c.get("hf_rope_parameters");
    assertEquals(hf.get("rope_type").asText(), v5.ropeType(), name);
    assertEquals(hf.get("rope_theta").asDouble(), v5.ropeTheta(), 0.0, name + " rope_theta");
    if (hf.has("factor")) {
      assertEquals(hf.get("factor").asDouble(), v5.toConfig().factor(), 0.0, name + " factor");
    }
    Integer ourOriginal = v5.toConfig().originalMaxPositionEmbeddings();
    if (ourOriginal != null) {
      assertEquals(hf.get("original_max_position_embeddings").asInt(), ourOriginal, name + " original_max_position_embeddings");
    }

    for (JsonNode e : c.get("evaluations")) {
      long seqLen = e.get("seq_len").asLong();
      String at = name + " @ seq_len " + seqLen;
      RopeFrequencies ours = v5.frequencies(seqLen);
      float[] init = Golden.floats(e.get("init_inv_freq"));
      float[] module = Golden.floats(e.get("module_inv_freq"));
      assertRelative(init, ours.invFreq(), at + " inv_freq vs ROPE_INIT_FUNCTIONS");
      assertRelative(module, ours.invFreq(), at + " inv_freq vs LlamaRotaryEmbedding");
      countIdentical(module, ours.invFreq());
      assertRelative(e.get("init_attention_factor").asDouble(), ours.attentionFactor(), at + " attention factor");
      assertRelative(e.get("module_attention_factor").asDouble(), ours.attentionFactor(), at + " module attention_scaling");

      long[] positions = Golden.longs(e.get("positions"));
      float[][] cos = rows(e.get("cos"));
      float[][] sin = rows(e.get("sin"));
      RopeFrequencies theirs = new RopeFrequencies(module, e.get("module_attention_factor").asDouble());
      checkPipeline(theirs, positions, cos, sin, at);
      double worst = checkEndToEnd(v5, seqLen, module, positions, cos, sin, at);
      MAX_END_TO_END_ABS.accumulate(worst);
    }
  }

  private static void checkDerivedCase(JsonNode c) {
    String name = c.get("name").asText();
    Rope rope = Ropes.create(Golden.ropeConfig(c.get("rope")), c.get("head_dim").asInt(),
        c.get("rope_theta").asDouble(), c.get("max_position_embeddings").asInt());
    for (JsonNode e : c.get("evaluations")) {
      long seqLen = e.get("seq_len").asLong();
      RopeFrequencies ours = rope.frequencies(seqLen);
      double[] inv = Golden.doubles(e.get("inv_freq"));
      float[] oursInv = ours.invFreq();
      float[] reference = new float[inv.length];
      for (int i = 0; i < inv.length; i++) {
        reference[i] = (float) inv[i];
        if (Math.abs(oursInv[i] - inv[i]) > REL * Math.abs(inv[i])) {
          fail(name + " inv_freq[" + i + "]: ours " + oursInv[i] + ", derived " + inv[i]);
        }
      }
      assertRelative(e.get("attention_factor").asDouble(), ours.attentionFactor(), name + " attention factor");
      checkEndToEnd(rope, seqLen, reference, Golden.longs(e.get("positions")), rows(e.get("cos")), rows(e.get("sin")), name);
    }
  }

  /** Our cos/sin arithmetic fed transformers' own frequencies must give its rows within 1e-6. */
  private static void checkPipeline(RopeFrequencies theirs, long[] positions, float[][] cos, float[][] sin, String at) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray p = m.create(positions).toType(DataType.FLOAT32, false);
      RotaryEmbedding.CosSin rows = RotaryEmbedding.rows(m, p, theirs);
      float[] c = rows.cos().toFloatArray();
      float[] s = rows.sin().toFloatArray();
      int d = cos[0].length;
      for (int r = 0; r < positions.length; r++) {
        for (int j = 0; j < d; j++) {
          MAX_PIPELINE_ABS.accumulate(Math.max(Math.abs(cos[r][j] - c[r * d + j]), Math.abs(sin[r][j] - s[r * d + j])));
          assertAbsolute(cos[r][j], c[r * d + j], at + " cos(p=" + positions[r] + ")[" + j + "] from HF inv_freq");
          assertAbsolute(sin[r][j], s[r * d + j], at + " sin(p=" + positions[r] + ")[" + j + "] from HF inv_freq");
        }
      }
    }
  }

  /** {@link RotaryEmbedding} end to end, with the float32 propagation of the inv_freq difference. */
  private static double checkEndToEnd(Rope rope, long seqLen, float[] referenceInv, long[] positions, float[][] cos,
      float[][] sin, String at) {
    double worst = 0;
    float[] ours = rope.frequencies(seqLen).invFreq();
    double attention = rope.frequencies(seqLen).attentionFactor();
    try (NDManager m = NDManager.newBaseManager(Device.cpu()); RotaryEmbedding rotary = new RotaryEmbedding(rope)) {
      NDArray ids = m.create(new long[][] {positions}); // [1, P]
      RotaryEmbedding.CosSin cs = rotary.cosSin(ids, seqLen, DataType.FLOAT32, Device.cpu());
      assertEquals(List.of(1L, 1L, (long) positions.length, (long) rope.headDim()),
          List.of(cs.cos().getShape().getShape()[0], cs.cos().getShape().getShape()[1],
              cs.cos().getShape().getShape()[2], cs.cos().getShape().getShape()[3]), at + " shape");
      float[] c = cs.cos().toFloatArray();
      float[] s = cs.sin().toFloatArray();
      int d = rope.headDim();
      for (int r = 0; r < positions.length; r++) {
        long p = positions[r];
        for (int j = 0; j < d; j++) {
          int i = j % (d / 2);
          double angle = p * (double) ours[i];
          double tolerance = REL + attention * (p * Math.abs((double) ours[i] - referenceInv[i]) + Math.ulp((float) angle));
          worst = Math.max(worst, Math.max(Math.abs(c[r * d + j] - cos[r][j]), Math.abs(s[r * d + j] - sin[r][j])));
          if (Math.abs(c[r * d + j] - cos[r][j]) > tolerance || Math.abs(s[r * d + j] - sin[r][j]) > tolerance) {
            fail(at + " p=" + p + " [" + j + "]: cos " + c[r * d + j] + " vs " + cos[r][j] + ", sin " + s[r * d + j]
                + " vs " + sin[r][j] + " (tolerance " + tolerance + ")");
          }
        }
      }
    }
    return worst;
  }

  private static float[][] rows(JsonNode array) {
    float[][] out = new float[array.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = Golden.floats(array.get(r));
    }
    return out;
  }

  private static void countIdentical(float[] a, float[] b) {
    for (int i = 0; i < a.length; i++) {
      INV_ENTRIES.incrementAndGet();
      MAX_INV_REL.accumulate(Math.abs((double) a[i] - b[i]) / Math.abs(a[i]));
      if (Float.floatToIntBits(a[i]) == Float.floatToIntBits(b[i])) {
        INV_BIT_IDENTICAL.incrementAndGet();
      }
    }
  }

  private static void assertRelative(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Math.abs((double) actual[i] - expected[i]) > REL * Math.abs((double) expected[i])) {
        fail(what + " [" + i + "]: expected " + expected[i] + ", got " + actual[i]);
      }
    }
  }

  private static void assertRelative(double expected, double actual, String what) {
    if (Math.abs(actual - expected) > REL * Math.abs(expected)) {
      fail(what + ": expected " + expected + ", got " + actual);
    }
  }

  private static void assertAbsolute(float expected, float actual, String what) {
    if (Math.abs((double) actual - expected) > REL * Math.max(1.0, Math.abs(expected))) {
      fail(what + ": expected " + expected + ", got " + actual);
    }
  }
}
