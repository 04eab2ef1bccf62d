package org.longctx.positional;

/**
 * Position interpolation (PI): every inverse frequency divided by {@code factor}
 * (HF {@code _compute_linear_scaling_rope_parameters}).
 */
public record LinearRope(int headDim, double ropeTheta, int maxPositionEmbeddings, double factor) implements Rope {

  public LinearRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("linear", factor);
  }

  @Override
  public String ropeType() {
    return "linear";
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    float[] inv = RopeMath.baseInvFreq(ropeTheta, headDim);
    float f = (float) factor; // torch divides the float32 tensor by the scalar cast to float32
    for (int i = 0; i < inv.length; i++) {
      inv[i] = inv[i] / f;
    }
    return new RopeFrequencies(inv, 1.0);
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("linear").ropeTheta(ropeTheta).factor(factor).build();
  }
}
