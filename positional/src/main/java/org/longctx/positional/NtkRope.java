package org.longctx.positional;

/**
 * Static NTK-aware scaling, PoSE's {@code vanilla_ntk} (dwzhu-pku/PoSE
 * {@code LlamaVanillaNTKScalingRotaryEmbedding}): the base becomes {@code b · s^(d/(d−2))} at
 * every length. Not a transformers type; it is exactly a default rope with that base, which is
 * how it is exported ({@link HfRopeConfig#huggingFaceEquivalent}).
 */
public record NtkRope(int headDim, double ropeTheta, int maxPositionEmbeddings, double factor) implements Rope {

  public NtkRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("ntk", factor);
  }

  @Override
  public String ropeType() {
    return "ntk";
  }

  /** {@code b · s^(d/(d−2))}, in double precision as Python computes it. */
  public double scaledBase() {
    return ropeTheta * Math.pow(factor, (double) headDim / (headDim - 2));
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    return new RopeFrequencies(RopeMath.baseInvFreq(scaledBase(), headDim), 1.0);
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("ntk").ropeTheta(ropeTheta).factor(factor).build();
  }
}
