package org.longctx.positional;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code rope:} section of an experiment config, with Hugging Face's key names. Only the
 * keys that the chosen {@code rope_type} uses may be set; every other one stays null. A null
 * section means "as the model's {@code config.json} says". Construction checks every key that
 * does not need the model (unknown type, key not used by the type, missing required key,
 * out-of-range value); {@link #toRope} adds the checks that need {@code head_dim} (longrope
 * list lengths).
 *
 * <p>Keys per type (required ones marked *):
 * <pre>
 *   default    rope_theta
 *   linear     rope_theta, factor*
 *   dynamic    rope_theta, factor*
 *   ntk        rope_theta, factor*
 *   yarn       rope_theta, factor*, original_max_position_embeddings, beta_fast, beta_slow,
 *              mscale, mscale_all_dim, attention_factor, truncate
 *   yarn_pose  rope_theta, factor*, original_max_position_embeddings, beta_fast, beta_slow,
 *              attention_factor
 *   longrope   rope_theta, short_factor*, long_factor*, factor, original_max_position_embeddings,
 *              attention_factor, start_tokens
 *   llama3     rope_theta, factor*, low_freq_factor*, high_freq_factor*, original_max_position_embeddings
 * </pre>
 * {@code original_max_position_embeddings} defaults to the model's {@code max_position_embeddings};
 * longrope's {@code factor} defaults to {@code max_position_embeddings / original_max_position_embeddings}.
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

  /** The keys each type accepts, in the order they are written. */
  static final Map<String, List<String>> KEYS_BY_TYPE = Map.of(
      "default", List.of("rope_theta"),
      "linear", List.of("rope_theta", "factor"),
      "dynamic", List.of("rope_theta", "factor"),
      "ntk", List.of("rope_theta", "factor"),
      "yarn", List.of("rope_theta", "factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
          "mscale", "mscale_all_dim", "attention_factor", "truncate"),
      "yarn_pose", List.of("rope_theta", "factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
          "attention_factor"),
      "longrope", List.of("rope_theta", "short_factor", "long_factor", "factor", "original_max_position_embeddings",
          "attention_factor", "start_tokens"),
      "llama3", List.of("rope_theta", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"));

  /** The keys each type cannot do without. */
  static final Map<String, Set<String>> REQUIRED_BY_TYPE = Map.of(
      "default", Set.of(),
      "linear", Set.of("factor"),
      "dynamic", Set.of("factor"),
      "ntk", Set.of("factor"),
      "yarn", Set.of("factor"),
      "yarn_pose", Set.of("factor"),
      "longrope", Set.of("short_factor", "long_factor"),
      "llama3", Set.of("factor", "low_freq_factor", "high_freq_factor"));

  public RopeConfig {
    if (ropeType == null || ropeType.isBlank()) {
      ropeType = "default";
    }
    shortFactor = shortFactor == null ? null : List.copyOf(nonNull("short_factor", shortFactor));
    longFactor = longFactor == null ? null : List.copyOf(nonNull("long_factor", longFactor));
    if (!Rope.TYPES.contains(ropeType)) {
      throw new IllegalArgumentException("rope_type: '" + ropeType + "' is not a rope variant; allowed: "
          + String.join(", ", Rope.TYPES));
    }
    Map<String, Object> given = keysOf(ropeTheta, factor, originalMaxPositionEmbeddings, betaFast, betaSlow, mscale,
        mscaleAllDim, attentionFactor, truncate, shortFactor, longFactor, lowFreqFactor, highFreqFactor, startTokens);
    List<String> allowed = KEYS_BY_TYPE.get(ropeType);
    for (String key : given.keySet()) {
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(key + ": not used by rope_type '" + ropeType + "'; keys for " + ropeType
            + ": rope_type, " + String.join(", ", allowed));
      }
    }
    for (String key : allowed) {
      if (REQUIRED_BY_TYPE.get(ropeType).contains(key) && !given.containsKey(key)) {
        throw new IllegalArgumentException(key + ": required for rope_type '" + ropeType + "'; keys for " + ropeType
            + ": rope_type, " + String.join(", ", allowed));
      }
    }
    // ranges that need no model: the variant records check the rest (list lengths need head_dim)
    if (ropeTheta != null) {
      RopeChecks.ropeTheta(ropeTheta);
    }
    if (factor != null) {
      if (ropeType.equals("longrope")) {
        RopeChecks.positiveNumber("factor", factor);
      } else {
        RopeChecks.factor(ropeType, factor);
      }
    }
    if (originalMaxPositionEmbeddings != null) {
      RopeChecks.positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
    }
    if (betaFast != null || betaSlow != null) {
      RopeChecks.betas(betaFast == null ? 32 : betaFast, betaSlow == null ? 1 : betaSlow);
    }
    RopeChecks.positiveNumber("mscale", mscale);
    RopeChecks.positiveNumber("mscale_all_dim", mscaleAllDim);
    RopeChecks.positiveNumber("attention_factor", attentionFactor);
    if (shortFactor != null) {
      RopeChecks.factorList("short_factor", shortFactor, -1);
    }
    if (longFactor != null) {
      RopeChecks.factorList("long_factor", longFactor, -1);
    }
    if (shortFactor != null && longFactor != null && shortFactor.size() != longFactor.size()) {
      throw new IllegalArgumentException("long_factor: must have as many values as short_factor (" + shortFactor.size()
          + "), got " + longFactor.size());
    }
    if (lowFreqFactor != null || highFreqFactor != null) {
      RopeChecks.freqFactors(lowFreqFactor == null ? 0 : lowFreqFactor, highFreqFactor == null ? 0 : highFreqFactor);
    }
    if (startTokens != null && startTokens < 0) {
      throw new IllegalArgumentException("start_tokens: must be an integer ≥ 0, got " + startTokens);
    }
  }

  /** A default rope (keeps the model's base). */
  public static RopeConfig defaults() {
    return builder("default").build();
  }

  /**
   * The variant this section describes for a model with the given shape; {@code rope_theta},
   * when set here, overrides {@code modelRopeTheta}.
   */
  public Rope toRope(int headDim, double modelRopeTheta, int maxPositionEmbeddings) {
    return Ropes.create(this, headDim, modelRopeTheta, maxPositionEmbeddings);
  }

  /** The set keys, snake_case name → value, in the type's order ({@code rope_type} first). */
  public Map<String, Object> keys() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rope_type", ropeType);
    Map<String, Object> given = keysOf(ropeTheta, factor, originalMaxPositionEmbeddings, betaFast, betaSlow, mscale,
        mscaleAllDim, attentionFactor, truncate, shortFactor, longFactor, lowFreqFactor, highFreqFactor, startTokens);
    for (String key : KEYS_BY_TYPE.get(ropeType)) {
      if (given.containsKey(key)) {
        out.put(key, given.get(key));
      }
    }
    return out;
  }

  private static Map<String, Object> keysOf(Double ropeTheta, Double factor, Integer originalMaxPositionEmbeddings,
      Double betaFast, Double betaSlow, Double mscale, Double mscaleAllDim, Double attentionFactor, Boolean truncate,
      List<Double> shortFactor, List<Double> longFactor, Double lowFreqFactor, Double highFreqFactor,
      Integer startTokens) {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("rope_theta", ropeTheta);
    all.put("factor", factor);
    all.put("original_max_position_embeddings", originalMaxPositionEmbeddings);
    all.put("beta_fast", betaFast);
    all.put("beta_slow", betaSlow);
    all.put("mscale", mscale);
    all.put("mscale_all_dim", mscaleAllDim);
    all.put("attention_factor", attentionFactor);
    all.put("truncate", truncate);
    all.put("short_factor", shortFactor);
    all.put("long_factor", longFactor);
    all.put("low_freq_factor", lowFreqFactor);
    all.put("high_freq_factor", highFreqFactor);
    all.put("start_tokens", startTokens);
    all.values().removeIf(v -> v == null);
    return all;
  }

  private static List<Double> nonNull(String key, List<Double> values) {
    for (int i = 0; i < values.size(); i++) {
      if (values.get(i) == null) {
        throw new IllegalArgumentException(key + "[" + i + "]: must be a number, got null");
      }
    }
    return values;
  }

  public static Builder builder(String ropeType) {
    return new Builder(ropeType);
  }

  /** Fluent construction of a {@link RopeConfig}; {@link #build()} validates. */
  public static final class Builder {
    private final String ropeType;
    private Double ropeTheta;
    private Double factor;
    private Integer originalMaxPositionEmbeddings;
    private Double betaFast;
    private Double betaSlow;
    private Double mscale;
    private Double mscaleAllDim;
    private Double attentionFactor;
    private Boolean truncate;
    private List<Double> shortFactor;
    private List<Double> longFactor;
    private Double lowFreqFactor;
    private Double highFreqFactor;
    private Integer startTokens;

    private Builder(String ropeType) {
      this.ropeType = ropeType;
    }

    public Builder ropeTheta(Double v) { ropeTheta = v; return this; }
    public Builder factor(Double v) { factor = v; return this; }
    public Builder originalMaxPositionEmbeddings(Integer v) { originalMaxPositionEmbeddings = v; return this; }
    public Builder betaFast(Double v) { betaFast = v; return this; }
    public Builder betaSlow(Double v) { betaSlow = v; return this; }
    public Builder mscale(Double v) { mscale = v; return this; }
    public Builder mscaleAllDim(Double v) { mscaleAllDim = v; return this; }
    public Builder attentionFactor(Double v) { attentionFactor = v; return this; }
    public Builder truncate(Boolean v) { truncate = v; return this; }
    public Builder shortFactor(List<Double> v) { shortFactor = v == null ? null : new ArrayList<>(v); return this; }
    public Builder longFactor(List<Double> v) { longFactor = v == null ? null : new ArrayList<>(v); return this; }
    public Builder lowFreqFactor(Double v) { lowFreqFactor = v; return this; }
    public Builder highFreqFactor(Double v) { highFreqFactor = v; return this; }
    public Builder startTokens(Integer v) { startTokens = v; return this; }

    public RopeConfig build() {
      return new RopeConfig(ropeType, ropeTheta, factor, originalMaxPositionEmbeddings, betaFast, betaSlow, mscale,
          mscaleAllDim, attentionFactor, truncate, shortFactor, longFactor, lowFreqFactor, highFreqFactor, startTokens);
    }
  }
}
