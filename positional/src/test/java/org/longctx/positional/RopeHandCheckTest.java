package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The hand-computed checks of methods.md §1 and §3 (d = 8, b = 10000 unless stated). */
class RopeHandCheckTest {

  /** Values are written to 7–8 significant digits: allow half a unit of the last one. */
  private static void assertValues(double[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > 5e-8 + 1e-6 * Math.abs(expected[i])) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
      }
    }
  }

  private static Rope rope(RopeConfig.Builder b) {
    return Ropes.create(b.build(), 8, 10000, 2048);
  }

  @Test
  void defaultAndLinear() {
    assertValues(new double[] {1, 0.1, 0.01, 0.001}, rope(RopeConfig.builder("default")).invFreq(1), "default");
    assertValues(new double[] {0.25, 0.025, 0.0025, 0.00025}, rope(RopeConfig.builder("linear").factor(4.0)).invFreq(1),
        "linear s=4");
  }

  @Test
  void staticNtk() {
    NtkRope ntk = (NtkRope) rope(RopeConfig.builder("ntk").factor(4.0));
    assertEquals(63496.04, ntk.scaledBase(), 0.005);
    assertValues(new double[] {1, 0.0629961, 0.0039685, 0.00025}, ntk.invFreq(1), "ntk s=4");
  }

  @Test
  void yarnAndRevisedYarn() {
    YarnRope yarn = (YarnRope) rope(RopeConfig.builder("yarn").factor(4.0).originalMaxPositionEmbeddings(2048));
    assertArrayEquals(new double[] {1, 3}, yarn.correctionRange());
    assertArrayEquals(new float[] {1, 1, 0.5f, 0}, RopeMath.yarnKeepMask(8, 10000, 2048, 32, 1, true));
    assertValues(new double[] {1, 0.1, 0.00625, 0.00025}, yarn.invFreq(1), "yarn s=4");
    assertEquals(1.1386294, yarn.attentionFactor(1), 5e-8);
    YarnPoseRope pose = (YarnPoseRope) rope(RopeConfig.builder("yarn_pose").factor(4.0).originalMaxPositionEmbeddings(2048));
    assertValues(new double[] {1, 0.1, 0.004, 0.00025}, pose.invFreq(1), "revised yarn s=4");

    YarnRope big = (YarnRope) Ropes.create(RopeConfig.builder("yarn").factor(16.0).originalMaxPositionEmbeddings(4096).build(),
        128, 10000, 65536);
    assertArrayEquals(new double[] {20, 46}, big.correctionRange());
    assertEquals(1.2772589, big.attentionFactor(1), 5e-8);
  }

  @Test
  void longropeShortLongAndAttention() {
    LongRope lr = (LongRope) Ropes.create(RopeConfig.builder("longrope")
        .shortFactor(List.of(1.0, 1.0, 1.5, 2.0)).longFactor(List.of(1.0, 2.0, 4.0, 8.0))
        .originalMaxPositionEmbeddings(4096).build(), 8, 10000, 131072);
    assertEquals(32.0, lr.factor(), 0.0);
    assertValues(new double[] {1, 0.1, 0.0066667, 0.0005}, lr.invFreq(4096), "short factors at L0");
    assertValues(new double[] {1, 0.05, 0.0025, 0.000125}, lr.invFreq(4097), "long factors beyond L0");
    assertEquals(Math.sqrt(17.0 / 12.0), lr.attentionFactor(1), 1e-15);
    assertEquals(1.1902381, lr.attentionFactor(4097), 5e-8);
    // LongRoPE's "su" mscale at s = 8, L0 = 4096
    LongRope su = (LongRope) Ropes.create(RopeConfig.builder("longrope").factor(8.0)
        .shortFactor(List.of(1.0, 1.0, 1.0, 1.0)).longFactor(List.of(1.0, 1.0, 1.0, 1.0))
        .originalMaxPositionEmbeddings(4096).build(), 8, 10000, 32768);
    assertEquals(1.1180340, su.attentionFactor(1), 5e-8);
  }

  @Test
  void dynamicKeepsTheOriginalUpToMaxPositions() {
    Rope dynamic = rope(RopeConfig.builder("dynamic").factor(4.0));
    Rope plain = rope(RopeConfig.builder("default"));
    assertArrayEquals(plain.invFreq(1), dynamic.invFreq(1));
    assertArrayEquals(plain.invFreq(1), dynamic.invFreq(2048));
    // at L = 2·max_pos: b' = b·(4·2 − 3)^(8/6)
    double expectedBase = 10000 * Math.pow(5, 8.0 / 6);
    assertEquals(expectedBase, ((DynamicRope) dynamic).scaledBase(4096), 1e-9 * expectedBase);
    assertValues(new double[] {1, Math.pow(expectedBase, -0.25), Math.pow(expectedBase, -0.5), Math.pow(expectedBase, -0.75)},
        dynamic.invFreq(4096), "dynamic at 2x");
  }
}
