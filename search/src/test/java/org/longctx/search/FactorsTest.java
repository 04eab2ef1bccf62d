package org.longctx.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.Ropes;

/** The hand checks of docs/methods.md §3 and the start points of the search. */
class FactorsTest {

  @Test
  void initialFactorsAreYarnShaped() {
    // d = 8, s = 4, L0 = 2048: [1, 1, 2.5, 4]
    assertArrayEquals(new double[] {1, 1, 2.5, 4}, Factors.yarnStart(new SearchSpace(8, 10000, 2048, 8192)), 1e-12);
  }

  @Test
  void suAttentionFactor() {
    assertEquals(1.1180340, Factors.attentionFactor("su", 8, 4096), 5e-8);
    assertEquals(0.1 * Math.log(8) + 1, Factors.attentionFactor("yarn", 8, 4096), 1e-12);
    assertEquals(1.0, Factors.attentionFactor("su", 1, 4096));
  }

  @Test
  void suIsTransformersLongropeRule() {
    // a genome scored with mscale su gets longrope's own attention factor for factor = s and L0
    SearchSpace space = new SearchSpace(8, 10000, 4096, 32768);
    RopeConfig rope = new Genome(0, new double[] {1, 2, 4, 8}).toRope(space, "su");
    double af = Ropes.create(rope, 8, 10000, 4096).frequencies(32768).attentionFactor();
    assertEquals(1.1180340, af, 5e-8);
  }

  @Test
  void rescaleToShorterTarget() {
    // [1, 1.5, 3, 8] from 8x to 4x: [1, 1.2142857, 1.8571429, 4]
    double[] out = Factors.rescale(new double[] {1, 1.5, 3, 8}, 1000, 8000, 4000);
    assertArrayEquals(new double[] {1, 1.2142857, 1.8571429, 4}, out, 5e-8);
    assertThrows(IllegalArgumentException.class, () -> Factors.rescale(new double[] {1}, 1000, 1000, 500));
  }

  @Test
  void piAndNtkSeedsGiveTheirRopesFrequencies() {
    SearchSpace space = new SearchSpace(16, 10000, 512, 2048);
    double[] base = toDouble(Ropes.create(RopeConfig.defaults(), 16, 10000, 512).frequencies(512).invFreq());
    double[] ntk = toDouble(Ropes.create(RopeConfig.builder("ntk").factor(4.0).build(), 16, 10000, 512).frequencies(2048).invFreq());
    double[] linear = toDouble(Ropes.create(RopeConfig.builder("linear").factor(4.0).build(), 16, 10000, 512).frequencies(2048).invFreq());
    double[] ntkLambda = Factors.ntk(space);
    double[] piLambda = Factors.pi(space);
    for (int i = 0; i < base.length; i++) {
      assertEquals(base[i] / ntk[i], ntkLambda[i], 1e-5 * ntkLambda[i], "ntk λ[" + i + "]");
      assertEquals(base[i] / linear[i], piLambda[i], 1e-5 * piLambda[i], "pi λ[" + i + "]");
    }
    assertEquals(1.0, ntkLambda[0]);
    assertEquals(4.0, ntkLambda[ntkLambda.length - 1], 1e-12);
    assertTrue(new Genome(0, ntkLambda).monotone());
  }

  @Test
  void yarnSeedScoresAsTheYarnRope() {
    // with the "yarn" attention factor, the yarn seed's longrope has YaRN's frequencies and attention factor
    SearchSpace space = new SearchSpace(16, 10000, 512, 4096);
    float[] yarn = Ropes.create(RopeConfig.builder("yarn").factor(8.0).originalMaxPositionEmbeddings(512).build(), 16, 10000, 512)
        .frequencies(4096).invFreq();
    var seed = Ropes.create(new Genome(0, Factors.yarn(space)).toRope(space, "yarn"), 16, 10000, 512).frequencies(4096);
    for (int i = 0; i < yarn.length; i++) {
      assertEquals(yarn[i], seed.invFreq()[i], 2e-7 * yarn[i], "inv_freq[" + i + "]");
    }
    assertEquals(0.1 * Math.log(8) + 1, seed.attentionFactor(), 1e-12);
    assertTrue(new Genome(0, Factors.yarn(space)).monotone());
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
