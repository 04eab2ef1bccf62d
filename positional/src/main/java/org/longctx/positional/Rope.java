package org.longctx.positional;

import java.util.List;

/**
 * One rotary position embedding variant, keyed by Hugging Face's {@code rope_type} name. Every
 * implementation is an immutable record that validates itself on construction (a bad key throws
 * {@link IllegalArgumentException} naming it and the allowed range) and computes its inverse
 * frequencies the way transformers' {@code ROPE_INIT_FUNCTIONS} does, in float32.
 *
 * <p>Build one from a model's {@code config.json} with {@link HfRopeConfig#parse}, or from the
 * experiment's {@code rope:} section with {@link Ropes#create}.
 */
public sealed interface Rope
    permits DefaultRope, LinearRope, DynamicRope, NtkRope, YarnRope, YarnPoseRope, LongRope, Llama3Rope {

  /** The registry's names: Hugging Face's six, then the two this project adds. */
  List<String> TYPES = List.of("default", "linear", "dynamic", "yarn", "longrope", "llama3", "ntk", "yarn_pose");

  /** The {@code rope_type} string. */
  String ropeType();

  /** The rotary dimension d; {@code invFreq} has d/2 entries. */
  int headDim();

  /** The base b ({@code rope_theta}). */
  double ropeTheta();

  /** The model's {@code max_position_embeddings} (dynamic NTK scales relative to it). */
  int maxPositionEmbeddings();

  /**
   * Inverse frequencies and attention factor for a sequence of {@code seqLen} tokens — the
   * longest position + 1. Only {@code dynamic} (which rescales beyond
   * {@code max_position_embeddings}) and {@code longrope} (short factors up to
   * {@code original_max_position_embeddings}, long factors beyond) depend on it.
   */
  RopeFrequencies frequencies(long seqLen);

  default float[] invFreq(long seqLen) {
    return frequencies(seqLen).invFreq();
  }

  default double attentionFactor(long seqLen) {
    return frequencies(seqLen).attentionFactor();
  }

  /**
   * Names the frequency set used at {@code seqLen}: two lengths with the same key get identical
   * frequencies, so cos/sin tables can be shared between them.
   */
  default String frequencySet(long seqLen) {
    return "static";
  }

  /**
   * Longrope's n̂: positions below it use the original, unscaled rotation with attention
   * factor 1. Zero for every other variant.
   */
  default int startTokens() {
    return 0;
  }

  /** The {@code rope:} section that rebuilds this variant, with every key explicit. */
  RopeConfig toConfig();
}
