package org.longctx.positional;

import java.util.List;

/**
 * The rope registry: builds the variant a {@link RopeConfig} names, keyed by Hugging Face's
 * {@code rope_type} strings plus this project's {@code ntk} and {@code yarn_pose}.
 */
public final class Ropes {

  /** HF's defaults for YaRN's ramp (beta_fast, beta_slow). */
  public static final double DEFAULT_BETA_FAST = 32;
  public static final double DEFAULT_BETA_SLOW = 1;

  /** transformers' {@code default_theta}, used when a config.json has no rope_theta. */
  public static final double DEFAULT_THETA = 10_000.0;

  private Ropes() {}

  /** The registry's names, as {@link Rope#TYPES}. */
  public static List<String> types() {
    return Rope.TYPES;
  }

  /**
   * The variant {@code rope} describes for a model with {@code headDim}, base
   * {@code modelRopeTheta} (overridden by {@code rope.ropeTheta()} when set) and
   * {@code maxPositionEmbeddings}.
   *
   * @throws IllegalArgumentException naming the key, when a value does not fit the model (for
   *     example longrope lists whose length is not head_dim/2)
   */
  public static Rope create(RopeConfig rope, int headDim, double modelRopeTheta, int maxPositionEmbeddings) {
    RopeConfig r = rope == null ? RopeConfig.defaults() : rope;
    double theta = r.ropeTheta() != null ? r.ropeTheta() : modelRopeTheta;
    int originalMax = r.originalMaxPositionEmbeddings() != null ? r.originalMaxPositionEmbeddings() : maxPositionEmbeddings;
    double betaFast = r.betaFast() != null ? r.betaFast() : DEFAULT_BETA_FAST;
    double betaSlow = r.betaSlow() != null ? r.betaSlow() : DEFAULT_BETA_SLOW;
    return switch (r.ropeType()) {
      case "default" -> new DefaultRope(headDim, theta, maxPositionEmbeddings);
      case "linear" -> new LinearRope(headDim, theta, maxPositionEmbeddings, r.factor());
      case "dynamic" -> new DynamicRope(headDim, theta, maxPositionEmbeddings, r.factor());
      case "ntk" -> new NtkRope(headDim, theta, maxPositionEmbeddings, r.factor());
      case "yarn" -> new YarnRope(headDim, theta, maxPositionEmbeddings, r.factor(), originalMax, betaFast, betaSlow,
          r.mscale(), r.mscaleAllDim(), r.attentionFactor(), r.truncate() == null || r.truncate());
      case "yarn_pose" -> new YarnPoseRope(headDim, theta, maxPositionEmbeddings, r.factor(), originalMax, betaFast,
          betaSlow, r.attentionFactor());
      case "longrope" -> new LongRope(headDim, theta, maxPositionEmbeddings, r.shortFactor(), r.longFactor(),
          r.factor() != null ? r.factor() : (double) maxPositionEmbeddings / originalMax,
          originalMax, r.attentionFactor(), r.startTokens() == null ? 0 : r.startTokens());
      case "llama3" -> new Llama3Rope(headDim, theta, maxPositionEmbeddings, r.factor(), r.lowFreqFactor(),
          r.highFreqFactor(), originalMax);
      default -> throw new IllegalArgumentException("rope_type: '" + r.ropeType() + "' is not a rope variant; allowed: "
          + String.join(", ", Rope.TYPES));
    };
  }
}
