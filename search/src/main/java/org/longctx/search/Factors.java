package org.longctx.search;

import org.longctx.positional.YarnRope;

/**
 * LongRoPE's factor arithmetic (docs/methods.md §3): the start points of the search, the
 * attention factor of a factor set and the rescaling of a set to a shorter target.
 */
public final class Factors {
  private Factors() {}

  /**
   * The search's start point {@code λ_j = s·(1 − e_j) + e_j}, where {@code e} is YaRN's keep mask
   * with beta 32/1 (docs/methods.md §1) [microsoft/LongRoPE {@code evolution/search.py}: the
   * YaRN-shaped initial factors]. Hand check: d = 8, s = 4, L0 = 2048 gives [1, 1, 2.5, 4].
   */
  public static double[] yarnStart(SearchSpace space) {
    double s = space.scale();
    float[] keep = keepMask(space);
    double[] lambda = new double[keep.length];
    for (int j = 0; j < keep.length; j++) {
      lambda[j] = s * (1 - keep[j]) + keep[j];
    }
    return lambda;
  }

  /**
   * Transformers YaRN's frequencies as factors: YaRN interpolates the frequency,
   * {@code inv = θ·((1 − e)/s + e)}, so {@code λ = 1/((1 − e)/s + e)} (docs/methods.md §1);
   * with the "yarn" attention factor these score exactly as the yarn rope (up to float rounding).
   */
  public static double[] yarn(SearchSpace space) {
    double s = space.scale();
    float[] keep = keepMask(space);
    double[] lambda = new double[keep.length];
    for (int j = 0; j < keep.length; j++) {
      lambda[j] = 1.0 / ((1 - keep[j]) / s + keep[j]);
    }
    return lambda;
  }

  private static float[] keepMask(SearchSpace space) {
    return new YarnRope(space.headDim(), space.ropeTheta(), space.targetLength(), space.scale(), space.originalLength(),
        32, 1, null, null, null, true).keepMask();
  }

  /** PI's factors: every dimension divided by s (the paper seeds the population with them). */
  public static double[] pi(SearchSpace space) {
    double[] lambda = new double[space.factorCount()];
    java.util.Arrays.fill(lambda, space.scale());
    return lambda;
  }

  /**
   * Static NTK's factors: base {@code b·s^(d/(d−2))} equals {@code λ_i = s^(2i/(d−2))}, from 1 at
   * the fastest dimension to s at the slowest (the paper's NTK seed).
   */
  public static double[] ntk(SearchSpace space) {
    int d = space.headDim();
    double[] lambda = new double[space.factorCount()];
    for (int i = 0; i < lambda.length; i++) {
      lambda[i] = d == 2 ? space.scale() : Math.pow(space.scale(), 2.0 * i / (d - 2));
    }
    return lambda;
  }

  /**
   * The attention factor of a factor set for scale s and original window L0: "su"
   * {@code sqrt(1 + ln s / ln L0)} (the default; transformers' longrope rule) or "yarn"
   * {@code 0.1 ln s + 1}; 1 when s ≤ 1 [microsoft/LongRoPE {@code rope/longrope.py}]. Hand check:
   * su at s = 8, L0 = 4096 is 1.1180340.
   */
  public static double attentionFactor(String mscale, double scale, int originalLength) {
    if (scale <= 1) {
      return 1.0;
    }
    return switch (mscale) {
      case "su" -> Math.sqrt(1 + Math.log(scale) / Math.log(originalLength));
      case "yarn" -> 0.1 * Math.log(scale) + 1;
      default -> throw new IllegalArgumentException("mscale: '" + mscale + "' is not an attention-factor rule; allowed: "
          + String.join(", ", SearchConfig.MSCALES));
    };
  }

  /**
   * A factor set found for target S reused at a shorter target L:
   * {@code λ' = 1 + (λ − 1)·(L/L0 − 1)/(S/L0 − 1)} (docs/methods.md §3). Hand check:
   * [1, 1.5, 3, 8] from 8× to 4× is [1, 1.2142857, 1.8571429, 4].
   */
  public static double[] rescale(double[] lambda, int originalLength, int searchedLength, int newLength) {
    if (searchedLength <= originalLength) {
      throw new IllegalArgumentException("target_length: the factors' target " + searchedLength + " must exceed L0 = " + originalLength);
    }
    if (newLength < originalLength) {
      throw new IllegalArgumentException("length: must be ≥ L0 = " + originalLength + ", got " + newLength);
    }
    double ratio = ((double) newLength / originalLength - 1) / ((double) searchedLength / originalLength - 1);
    double[] out = new double[lambda.length];
    for (int i = 0; i < lambda.length; i++) {
      out[i] = 1 + (lambda[i] - 1) * ratio;
    }
    return out;
  }
}
