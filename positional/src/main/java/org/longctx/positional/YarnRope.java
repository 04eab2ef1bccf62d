package org.longctx.positional;

/**
 * YaRN as transformers computes it ({@code _compute_yarn_parameters}): frequencies that turn
 * fewer than {@code beta_slow} times within the original window are interpolated by
 * {@code factor}, those turning more than {@code beta_fast} times are kept, and a linear ramp
 * blends the band between; cos and sin are multiplied by the attention factor.
 *
 * @param factor the scale s (≥ 1)
 * @param originalMaxPositionEmbeddings the pre-extension window L0 that the ramp is measured in
 * @param betaFast rotations above which a frequency is kept (HF default 32)
 * @param betaSlow rotations below which a frequency is interpolated (HF default 1)
 * @param mscale with {@code mscaleAllDim}: attention factor = mscale(s, mscale)/mscale(s, mscale_all_dim); null = unset
 * @param mscaleAllDim see {@code mscale}; null = unset
 * @param attentionFactor explicit attention factor overriding both rules; null = unset
 * @param truncate floor/ceil the correction range (HF default true)
 */
public record YarnRope(
    int headDim,
    double ropeTheta,
    int maxPositionEmbeddings,
    double factor,
    int originalMaxPositionEmbeddings,
    double betaFast,
    double betaSlow,
    Double mscale,
    Double mscaleAllDim,
    Double attentionFactor,
    boolean truncate) implements Rope {

  public YarnRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("yarn", factor);
    RopeChecks.positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
    RopeChecks.betas(betaFast, betaSlow);
    RopeChecks.positiveNumber("mscale", mscale);
    RopeChecks.positiveNumber("mscale_all_dim", mscaleAllDim);
    RopeChecks.positiveNumber("attention_factor", attentionFactor);
  }

  @Override
  public String ropeType() {
    return "yarn";
  }

  /** The attention factor: explicit, else the mscale ratio when both are set, else 0.1·ln(s) + 1. */
  public double resolvedAttentionFactor() {
    if (attentionFactor != null) {
      return attentionFactor;
    }
    // HF tests `if mscale and mscale_all_dim`: both present and non-zero
    if (mscale != null && mscaleAllDim != null && mscale != 0 && mscaleAllDim != 0) {
      return RopeMath.yarnMscale(factor, mscale) / RopeMath.yarnMscale(factor, mscaleAllDim);
    }
    return RopeMath.yarnMscale(factor, 1);
  }

  /** The correction range (low, high) in dimension indices, after truncation and clamping. */
  public double[] correctionRange() {
    return RopeMath.yarnCorrectionRange(headDim, ropeTheta, originalMaxPositionEmbeddings, betaFast, betaSlow, truncate);
  }

  /**
   * The keep mask {@code e_j} of docs/methods.md §1 (1 keeps the original frequency, 0
   * interpolates fully), in float32 as the frequencies use it; LongRoPE's search starts from
   * {@code λ = s·(1 − e) + e} (docs/methods.md §3). [d/2]
   */
  public float[] keepMask() {
    return RopeMath.yarnKeepMask(headDim, ropeTheta, originalMaxPositionEmbeddings, betaFast, betaSlow, truncate);
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    float[] posFreqs = RopeMath.powers(ropeTheta, headDim); // b^(2i/d)
    float[] keep = keepMask();
    float s = (float) factor;
    float[] inv = new float[posFreqs.length];
    for (int i = 0; i < inv.length; i++) {
      float extrapolation = 1.0f / posFreqs[i];
      float interpolation = 1.0f / (s * posFreqs[i]);
      inv[i] = interpolation * (1f - keep[i]) + extrapolation * keep[i];
    }
    return new RopeFrequencies(inv, resolvedAttentionFactor());
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("yarn").ropeTheta(ropeTheta).factor(factor)
        .originalMaxPositionEmbeddings(originalMaxPositionEmbeddings)
        .betaFast(betaFast).betaSlow(betaSlow)
        .mscale(mscale).mscaleAllDim(mscaleAllDim).attentionFactor(attentionFactor)
        .truncate(truncate ? null : Boolean.FALSE)
        .build();
  }
}
