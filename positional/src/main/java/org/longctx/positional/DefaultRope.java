package org.longctx.positional;

/**
 * The original rotary embedding: {@code inv_freq[i] = 1 / b^(2i/d)}, attention factor 1
 * (HF {@code compute_default_rope_parameters}).
 */
public record DefaultRope(int headDim, double ropeTheta, int maxPositionEmbeddings) implements Rope {

  public DefaultRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
  }

  @Override
  public String ropeType() {
    return "default";
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    return new RopeFrequencies(RopeMath.baseInvFreq(ropeTheta, headDim), 1.0);
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("default").ropeTheta(ropeTheta).build();
  }
}
