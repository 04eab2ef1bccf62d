package org.longctx.positional;

/**
 * The float32 arithmetic every variant shares, written to round exactly where Hugging Face's
 * torch code rounds: torch evaluates {@code 1.0 / (base ** (arange(0, d, 2) / d))} in float32
 * with the Python scalars cast to float32, and Java's {@code float} operators are IEEE float32
 * with round-to-nearest, so each line below is one torch op. The one op that is not
 * correctly rounded in torch is {@code pow} (SLEEF, ≤ 1 ulp); here it is the double-precision
 * power rounded once to float32, so an entry may differ from torch's by one float32 ulp.
 */
final class RopeMath {

  private RopeMath() {}

  /** {@code arange(0, d, 2).float() / d}: the exponents 2i/d in float32. [d/2] */
  static float[] exponents(int headDim) {
    float[] e = new float[headDim / 2];
    for (int i = 0; i < e.length; i++) {
      e[i] = (float) (2 * i) / (float) headDim;
    }
    return e;
  }

  /** {@code base ** exponents} in float32 (torch casts the Python base to float32 first). [d/2] */
  static float[] powers(double base, int headDim) {
    float[] e = exponents(headDim);
    float b = (float) base;
    float[] p = new float[e.length];
    for (int i = 0; i < e.length; i++) {
      p[i] = (float) Math.pow(b, e[i]);
    }
    return p;
  }

  /** {@code 1.0 / (base ** (arange(0, d, 2) / d))}: the unscaled inverse frequencies θ_i. [d/2] */
  static float[] baseInvFreq(double base, int headDim) {
    float[] p = powers(base, headDim);
    float[] inv = new float[p.length];
    for (int i = 0; i < p.length; i++) {
      inv[i] = 1.0f / p[i];
    }
    return inv;
  }

  /**
   * YaRN's correction dimension for {@code numRotations} full turns within {@code originalLength}
   * (HF {@code find_correction_dim}, double precision as in Python).
   */
  static double correctionDim(double numRotations, int headDim, double base, int originalLength) {
    return (headDim * Math.log(originalLength / (numRotations * 2 * Math.PI))) / (2 * Math.log(base));
  }

  /**
   * YaRN's keep-mask {@code e_j = 1 − clamp((j − low)/(high − low), 0, 1)} for {@code j < d/2}
   * (HF {@code 1 - linear_ramp_factor(low, high, d // 2)}), in float32. 1 keeps the original
   * frequency, 0 interpolates fully. [d/2]
   */
  static float[] yarnKeepMask(int headDim, double base, int originalLength, double betaFast, double betaSlow, boolean truncate) {
    double[] range = yarnCorrectionRange(headDim, base, originalLength, betaFast, betaSlow, truncate);
    double low = range[0];
    double high = range[1];
    if (low == high) {
      high += 0.001; // HF: prevent a zero-width ramp
    }
    float lowF = (float) low;
    float width = (float) (high - low);
    float[] keep = new float[headDim / 2];
    for (int j = 0; j < keep.length; j++) {
      float ramp = ((float) j - lowF) / width;
      ramp = Math.min(Math.max(ramp, 0f), 1f);
      keep[j] = 1f - ramp;
    }
    return keep;
  }

  /** The correction range (low, high) after truncation and clamping, for reporting and tests. */
  static double[] yarnCorrectionRange(int headDim, double base, int originalLength, double betaFast, double betaSlow, boolean truncate) {
    double low = correctionDim(betaFast, headDim, base, originalLength);
    double high = correctionDim(betaSlow, headDim, base, originalLength);
    if (truncate) {
      low = Math.floor(low);
      high = Math.ceil(high);
    }
    return new double[] {Math.max(low, 0), Math.min(high, headDim - 1)};
  }

  /** YaRN's {@code get_mscale}: {@code 0.1·mscale·ln(s) + 1}, or 1 when s ≤ 1. */
  static double yarnMscale(double scale, double mscale) {
    return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
  }
}
