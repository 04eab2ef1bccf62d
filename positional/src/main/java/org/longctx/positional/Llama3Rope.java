package org.longctx.positional;

/**
 * Llama 3.1's frequency-dependent scaling (HF {@code _compute_llama3_parameters}): with wavelength
 * {@code λ_i = 2π / inv_i}, frequencies whose wavelength is below {@code L0/high_freq_factor}
 * are kept, those above {@code L0/low_freq_factor} are divided by {@code factor}, and the band
 * between is blended smoothly. Attention factor 1.
 */
public record Llama3Rope(
    int headDim,
    double ropeTheta,
    int maxPositionEmbeddings,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) implements Rope {

  public Llama3Rope {
    RopeChecks.headDim(headDim);
    RopeChecks.ropeTheta(ropeTheta);
    RopeChecks.positive("max_position_embeddings", maxPositionEmbeddings);
    RopeChecks.factor("llama3", factor);
    RopeChecks.freqFactors(lowFreqFactor, highFreqFactor);
    RopeChecks.positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
  }

  @Override
  public String ropeType() {
    return "llama3";
  }

  @Override
  public RopeFrequencies frequencies(long seqLen) {
    float[] inv = RopeMath.baseInvFreq(ropeTheta, headDim);
    double oldContext = originalMaxPositionEmbeddings;
    // torch compares and combines in float32, the Python scalars cast to float32
    float lowFreqWavelen = (float) (oldContext / lowFreqFactor);
    float highFreqWavelen = (float) (oldContext / highFreqFactor);
    float twoPi = (float) (2 * Math.PI);
    float f = (float) factor;
    float oldContextF = (float) oldContext;
    float low = (float) lowFreqFactor;
    float bandWidth = (float) (highFreqFactor - lowFreqFactor);
    float[] out = new float[inv.length];
    for (int i = 0; i < inv.length; i++) {
      float wavelen = (1.0f / inv[i]) * twoPi; // torch: 2π / t is t.reciprocal() * 2π
      float scaled = wavelen > lowFreqWavelen ? inv[i] / f : inv[i];
      float smooth = ((1.0f / wavelen) * oldContextF - low) / bandWidth;
      float smoothed = (1f - smooth) * scaled / f + smooth * scaled;
      boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      out[i] = medium ? smoothed : scaled;
    }
    return new RopeFrequencies(out, 1.0);
  }

  @Override
  public RopeConfig toConfig() {
    return RopeConfig.builder("llama3").ropeTheta(ropeTheta).factor(factor)
        .lowFreqFactor(lowFreqFactor).highFreqFactor(highFreqFactor)
        .originalMaxPositionEmbeddings(originalMaxPositionEmbeddings)
        .build();
  }
}
