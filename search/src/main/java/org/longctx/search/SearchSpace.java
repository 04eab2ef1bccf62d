package org.longctx.search;

/**
 * What the factors are searched for: the model's rotary shape and the two windows.
 *
 * @param headDim d; a genome has d/2 factors
 * @param ropeTheta the base b
 * @param originalLength L0, the window the model was trained with
 * @param targetLength L, the window the factors must serve (> L0)
 */
public record SearchSpace(int headDim, double ropeTheta, int originalLength, int targetLength) {

  public SearchSpace {
    if (headDim < 2 || headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim: must be an even number ≥ 2, got " + headDim);
    }
    if (!(ropeTheta > 1)) {
      throw new IllegalArgumentException("rope_theta: must be > 1, got " + ropeTheta);
    }
    if (originalLength < 1) {
      throw new IllegalArgumentException("original_length: must be ≥ 1, got " + originalLength);
    }
    if (targetLength <= originalLength) {
      throw new IllegalArgumentException("target_length: must be larger than the original window " + originalLength
          + " (the search finds long factors), got " + targetLength);
    }
  }

  /** s = L / L0. */
  public double scale() {
    return (double) targetLength / originalLength;
  }

  /** d/2: factors per genome. */
  public int factorCount() {
    return headDim / 2;
  }
}
