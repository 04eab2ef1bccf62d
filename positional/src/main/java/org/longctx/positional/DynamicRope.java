package org.longctx.positional;

/**
 * Dynamic NTK scaling (HF {@code _compute_dynamic_ntk_parameters}): with
 * {@code seq = max(L, max_position_embeddings)} the base becomes
 * {@code b · ((factor·seq / max_pos) − (factor − 1))^(d/(d−2))}, so sequences up to
 * {@code max_position_embeddings} keep the original frequencies and longer ones are rescaled
 * from their own length. Callers pass the longest length seen so far, as HF's rotary module
 * keeps the frequencies of the longest sequence since its last reset.
 */
public record DynamicRope(int headDim, double ropeTheta, int maxPositionEmbeddings, double factor) implements Rope {

  public DynamicRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("dynamic", factor);
  }

  @Override
  public String ropeType() {
    return "dynamic";
  }

  /** The rescaled base for {@code seqLen}, in double precision as Python computes it. */
  public double scaledBase(long seqLen) {
    long seq = Math.max(seqLen, maxPositionEmbeddings);
    return ropeTheta * Math.pow((factor * seq / maxPositionEmbeddings) - (factor - 1), (double) headDim / (headDim - 2));
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    return new RopeFrequencies(RopeMath.baseInvFreq(scaledBase(seqLen), headDim), 1.0);
  }

  @Override
  public String frequencySet(long seqLen) {
    return seqLen <= maxPositionEmbeddings ? "original" : "dynamic@" + seqLen;
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("dynamic").ropeTheta(ropeTheta).factor(factor).build();
  }
}
