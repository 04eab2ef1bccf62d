package org.longctx.positional;

/**
 * PoSE's "revised YaRN" (dwzhu-pku/PoSE {@code LlamaYaRNScaledRotaryEmbedding.revised_yarn}):
 * the same keep-mask e as YaRN, but it interpolates the wavelength instead of the frequency,
 * {@code inv_j = θ_j / ((1 − e_j)·s + e_j)}; attention factor {@code 0.1·ln(s) + 1}. Not a
 * transformers type; it is exactly a longrope whose short and long factors are both
 * {@code (1 − e_j)·s + e_j}, which is how it is exported.
 *
 * @param attentionFactor explicit attention factor; null = 0.1·ln(s) + 1
 */
public record YarnPoseRope(
    int headDim,
    double ropeTheta,
    int maxPositionEmbeddings,
    double factor,
    int originalMaxPositionEmbeddings,
    double betaFast,
    double betaSlow,
    Double attentionFactor) implements Rope {

  public YarnPoseRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("yarn_pose", factor);
    RopeChecks.positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
    RopeChecks.betas(betaFast, betaSlow);
    RopeChecks.positiveNumber("attention_factor", attentionFactor);
  }

  @Override
  public String ropeType() {
    return "yarn_pose";
  }

  public double resolvedAttentionFactor() {
    return attentionFactor != null ? attentionFactor : RopeMath.yarnMscale(factor, 1);
  }

  /** The per-dimension wavelength scale {@code (1 − e_j)·s + e_j}, in float32. [d/2] */
  public float[] wavelengthScales() {
    float[] keep = RopeMath.yarnKeepMask(headDim, ropeTheta, originalMaxPositionEmbeddings, betaFast, betaSlow, true);
    float s = (float) factor;
    float[] scale = new float[keep.length];
    for (int j = 0; j < keep.length; j++) {
      scale[j] = (1f - keep[j]) * s + keep[j];
    }
    return scale;
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    float[] inv = RopeMath.baseInvFreq(ropeTheta, headDim);
    float[] scale = wavelengthScales();
    for (int j = 0; j < inv.length; j++) {
      inv[j] = inv[j] / scale[j];
    }
    return new RopeFrequencies(inv, resolvedAttentionFactor());
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("yarn_pose").ropeTheta(ropeTheta).factor(factor)
        .originalMaxPositionEmbeddings(originalMaxPositionEmbeddings)
        .betaFast(betaFast).betaSlow(betaSlow).attentionFactor(attentionFactor)
        .build();
  }
}
