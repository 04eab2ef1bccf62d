package org.longctx.positional;

import java.util.List;

/**
 * LongRoPE (HF {@code _compute_longrope_parameters}): {@code inv_i = 1 / (λ_i · b^(2i/d))} with
 * λ = {@code long_factor} once the sequence is longer than {@code original_max_position_embeddings}
 * L0, else {@code short_factor}; the attention factor {@code sqrt(1 + ln(s)/ln(L0))} (1 when
 * s ≤ 1) is the same on both sides of the switch. Optionally the first {@code start_tokens}
 * positions keep the original, unscaled rotation without attention factor (LongRoPE's n̂;
 * {@link RotaryEmbedding} applies it).
 *
 * @param shortFactor λ used up to L0 ({@code head_dim/2} values)
 * @param longFactor λ used beyond L0 ({@code head_dim/2} values)
 * @param factor the scale s; when a config leaves it out it is {@code max_position_embeddings / L0}
 * @param originalMaxPositionEmbeddings L0, where the switch happens
 * @param attentionFactor explicit attention factor; null = the rule above
 * @param startTokens n̂ ≥ 0
 */
public record LongRope(
    int headDim,
    double ropeTheta,
    int maxPositionEmbeddings,
    List<Double> shortFactor,
    List<Double> longFactor,
    double factor,
    int originalMaxPositionEmbeddings,
    Double attentionFactor,
    int startTokens) implements Rope {

  public LongRope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factorList("short_factor", shortFactor, headDim / 2);
    RopeChecks.factorList("long_factor", longFactor, headDim / 2);
    shortFactor = List.copyOf(shortFactor);
    longFactor = List.copyOf(longFactor);
    if (!(factor > 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("factor: must be a finite number > 0 for rope_type 'longrope', got " + factor);
    }
    RopeChecks.positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
    RopeChecks.positiveNumber("attention_factor", attentionFactor);
    if (startTokens < 0) {
      throw new IllegalArgumentException("start_tokens: must be an integer ≥ 0, got " + startTokens);
    }
  }

  @Override
  public String ropeType() {
    return "longrope";
  }

  public double resolvedAttentionFactor() {
    if (attentionFactor != null) {
      return attentionFactor;
    }
    return factor <= 1.0 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositionEmbeddings));
  }

  /** Whether a sequence of {@code seqLen} tokens uses the long factors (HF: {@code seq_len > L0}). */
  public boolean usesLongFactors(long seqLen) {
    return seqLen > originalMaxPositionEmbeddings;
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    List<Double> lambda = usesLongFactors(seqLen) ? longFactor : shortFactor;
    float[] powers = RopeMath.powers(ropeTheta, headDim); // b^(2i/d)
    float[] inv = new float[powers.length];
    for (int i = 0; i < inv.length; i++) {
      // torch.tensor(factors, dtype=float32) * powers, then the reciprocal
      inv[i] = 1.0f / (lambda.get(i).floatValue() * powers[i]);
    }
    return new RopeFrequencies(inv, resolvedAttentionFactor());
  }

  /** The rows of positions below {@link #startTokens()}: original frequencies, attention factor 1. */
  public RopeFrequencies startTokenFrequencies() {
    return new RopeFrequencies(RopeMath.baseInvFreq(ropeTheta, headDim), 1.0);
  }

  @Override
  public String frequencySet(long seqLen) {
    return usesLongFactors(seqLen) ? "long" : "short";
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("longrope").ropeTheta(ropeTheta).factor(factor)
        .originalMaxPositionEmbeddings(originalMaxPositionEmbeddings)
        .shortFactor(shortFactor).longFactor(longFactor).attentionFactor(attentionFactor)
        .startTokens(startTokens == 0 ? null : startTokens)
        .build();
  }
}
