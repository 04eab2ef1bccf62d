package org.longctx.positional;

import java.util.Arrays;

/**
 * What a rope variant produces for one sequence length: the inverse frequencies and the
 * attention factor (HF's {@code attention_scaling}, YaRN's mscale) that multiplies both cos and
 * sin.
 *
 * @param invFreq float32 inverse frequencies, {@code head_dim / 2} values
 * @param attentionFactor multiplies cos and sin, so attention logits scale by its square
 */
public record RopeFrequencies(float[] invFreq, double attentionFactor) {

  public RopeFrequencies {
    invFreq = invFreq.clone();
  }

  /** A copy: the record stays immutable. */
  @Override
  public float[] invFreq() {
    return invFreq.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RopeFrequencies f && Arrays.equals(invFreq, f.invFreq)
        && Double.compare(attentionFactor, f.attentionFactor) == 0;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(invFreq) + Double.hashCode(attentionFactor);
  }

  @Override
  public String toString() {
    return "RopeFrequencies[invFreq=" + Arrays.toString(invFreq) + ", attentionFactor=" + attentionFactor + "]";
  }
}
