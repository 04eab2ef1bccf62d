package org.longctx.positional;

import java.util.List;

/**
 * The {@code rope:} section of an experiment config, with Hugging Face's key names. Only the
 * keys that the chosen {@code rope_type} uses may be set; every other one stays null. A null
 * section means "as the model's {@code config.json} says".
 *
 * @param ropeType one of the registry's names: default, linear, dynamic, yarn, longrope,
 *     llama3, ntk, yarn_pose
 * @param ropeTheta the base b; null keeps the model's
 * @param factor the scale factor s
 * @param originalMaxPositionEmbeddings the pre-extension window L0
 * @param betaFast YaRN's beta_fast (default 32)
 * @param betaSlow YaRN's beta_slow (default 1)
 * @param mscale YaRN's mscale
 * @param mscaleAllDim YaRN's mscale_all_dim
 * @param attentionFactor explicit attention factor (mscale) overriding the variant's rule
 * @param truncate YaRN: floor/ceil the correction range (default true)
 * @param shortFactor longrope rescale factors used up to L0 (head_dim/2 values)
 * @param longFactor longrope rescale factors used beyond L0 (head_dim/2 values)
 * @param lowFreqFactor llama3's low_freq_factor
 * @param highFreqFactor llama3's high_freq_factor
 * @param startTokens longrope: the first n positions keep the original, unscaled rotation
 */
public record RopeConfig(
    String ropeType,
    Double ropeTheta,
    Double factor,
    Integer originalMaxPositionEmbeddings,
    Double betaFast,
    Double betaSlow,
    Double mscale,
    Double mscaleAllDim,
    Double attentionFactor,
    Boolean truncate,
    List<Double> shortFactor,
    List<Double> longFactor,
    Double lowFreqFactor,
    Double highFreqFactor,
    Integer startTokens) {

  public RopeConfig {
    if (ropeType == null || ropeType.isBlank()) {
      ropeType = "default";
    }
    shortFactor = shortFactor == null ? null : List.copyOf(shortFactor);
    longFactor = longFactor == null ? null : List.copyOf(longFactor);
  }
}
