package org.longctx.positional;

import java.util.List;

/**
 * Argument checks shared by the variant records and {@link RopeConfig}: each names the
 * Hugging Face key, the value it got and what is allowed.
 */
final class RopeChecks {

  private RopeChecks() {}

  static void headDim(int headDim) {
    if (headDim < 2 || headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim: must be an even number ≥ 2, got " + headDim);
    }
  }

  static void ropeTheta(double theta) {
    if (!(theta > 1) || Double.isInfinite(theta)) {
      throw new IllegalArgumentException("rope_theta: must be a finite number > 1, got " + theta);
    }
  }

  static void positive(String key, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(key + ": must be an integer ≥ 1, got " + value);
    }
  }

  static void factor(String ropeType, double factor) {
    if (!(factor >= 1) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("factor: must be a finite number ≥ 1 for rope_type '" + ropeType
          + "', got " + factor + "; allowed: [1, ∞)");
    }
  }

  static void positiveNumber(String key, Double value) {
    if (value != null && (!(value > 0) || Double.isInfinite(value))) {
      throw new IllegalArgumentException(key + ": must be a finite number > 0, got " + value);
    }
  }

  static void betas(double betaFast, double betaSlow) {
    positiveNumber("beta_fast", betaFast);
    positiveNumber("beta_slow", betaSlow);
    if (betaFast <= betaSlow) {
      throw new IllegalArgumentException("beta_fast: must be greater than beta_slow (" + betaSlow + "), got " + betaFast);
    }
  }

  static void freqFactors(double lowFreqFactor, double highFreqFactor) {
    positiveNumber("low_freq_factor", lowFreqFactor);
    positiveNumber("high_freq_factor", highFreqFactor);
    if (highFreqFactor <= lowFreqFactor) {
      throw new IllegalArgumentException("high_freq_factor: must be greater than low_freq_factor (" + lowFreqFactor
          + "), got " + highFreqFactor);
    }
  }

  /** A longrope factor list: positive finite numbers, {@code expected} of them (−1: any count ≥ 1). */
  static void factorList(String key, List<Double> values, int expected) {
    if (values == null || values.isEmpty()) {
      throw new IllegalArgumentException(key + ": required for rope_type 'longrope' (a list of head_dim/2 numbers > 0)");
    }
    if (expected >= 0 && values.size() != expected) {
      throw new IllegalArgumentException(key + ": must have head_dim/2 = " + expected + " values, got " + values.size());
    }
    for (int i = 0; i < values.size(); i++) {
      Double v = values.get(i);
      if (v == null || !(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(key + "[" + i + "]: must be a finite number > 0, got " + v);
      }
    }
  }
}
