package org.longctx.search;

import java.util.Arrays;
import java.util.List;
import org.longctx.positional.RopeConfig;

/**
 * One candidate: LongRoPE's long factors λ (d/2 values) and the number n̂ of start tokens that
 * keep the original rotation (0 when n̂ is not searched).
 *
 * @param startTokens n̂ ≥ 0
 * @param factors λ, one per rotary dimension pair
 */
public record Genome(int startTokens, double[] factors) {

  public Genome {
    if (startTokens < 0) {
      throw new IllegalArgumentException("start_tokens: must be ≥ 0, got " + startTokens);
    }
    factors = factors.clone();
  }

  @Override
  public double[] factors() {
    return factors.clone();
  }

  double factor(int i) {
    return factors[i];
  }

  int size() {
    return factors.length;
  }

  /**
   * numpy's {@code allclose} (|a − b| ≤ 1e-8 + 1e-5·|b| for every entry), the reference's test of
   * "seen before" [microsoft/LongRoPE {@code genetic_base.py:Individual.__eq__}]; n̂ must match exactly.
   */
  public boolean allClose(Genome other) {
    if (other.startTokens != startTokens || other.factors.length != factors.length) {
      return false;
    }
    for (int i = 0; i < factors.length; i++) {
      if (!(Math.abs(factors[i] - other.factors[i]) <= 1e-8 + 1e-5 * Math.abs(other.factors[i]))) {
        return false;
      }
    }
    return true;
  }

  /** Non-decreasing along the dimension ({@code diff(λ) ≥ 0}). */
  public boolean monotone() {
    for (int i = 1; i < factors.length; i++) {
      if (factors[i] < factors[i - 1]) {
        return false;
      }
    }
    return true;
  }

  /** Every value within {@code [1, 1 + s]} (a long factor set's range). */
  public boolean inRange(double scale) {
    return within(1 + scale);
  }

  /** Every value within {@code [1, max]}. */
  public boolean within(double max) {
    for (double f : factors) {
      if (!(f >= 1 && f <= max + 1e-9)) {
        return false;
      }
    }
    return true;
  }

  /** λ as a list. */
  public List<Double> factorList() {
    return Arrays.stream(factors).boxed().toList();
  }

  /**
   * The rope that scores this candidate at the space's target: transformers' longrope with these
   * long factors, short factors 1 (the original rope up to L0), {@code factor = s} and the
   * attention factor of {@code mscale} (explicit for "yarn"; "su" is longrope's own rule).
   */
  public RopeConfig toRope(SearchSpace space, String mscale) {
    List<Double> ones = java.util.Collections.nCopies(factors.length, 1.0);
    return RopeConfig.builder("longrope")
        .shortFactor(ones)
        .longFactor(factorList())
        .factor(space.scale())
        .originalMaxPositionEmbeddings(space.originalLength())
        .attentionFactor(mscale.equals("su") ? null : Factors.attentionFactor(mscale, space.scale(), space.originalLength()))
        .startTokens(startTokens == 0 ? null : startTokens)
        .build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Genome g && g.startTokens == startTokens && Arrays.equals(g.factors, factors);
  }

  @Override
  public int hashCode() {
    return 31 * startTokens + Arrays.hashCode(factors);
  }

  @Override
  public String toString() {
    return (startTokens > 0 ? "n̂=" + startTokens + " " : "") + Arrays.toString(factors);
  }
}
