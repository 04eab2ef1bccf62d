package org.longctx.positional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the rope of a Hugging Face {@code config.json}, in both generations:
 * <ul>
 *   <li>transformers 4.x: {@code rope_scaling} (with {@code rope_type}, or its older alias
 *       {@code type}) and a top-level {@code rope_theta};</li>
 *   <li>transformers 5.x: {@code rope_parameters} with {@code rope_theta} inside;</li>
 *   <li>Phi-3 style: a top-level {@code original_max_position_embeddings}.</li>
 * </ul>
 * Resolution follows transformers 5's {@code standardize_rope_params}: {@code rope_scaling}
 * wins over {@code rope_parameters} when both are set; {@code rope_theta} comes from the dict,
 * else the top level, else 10000; for yarn, longrope and llama3 a top-level
 * {@code original_max_position_embeddings} wins over the dict's, which defaults to
 * {@code max_position_embeddings}. Keys a type does not use are ignored, as transformers
 * ignores them.
 *
 * <p>The top-level {@code original_max_position_embeddings} is honoured for every model type,
 * as transformers 4.x and transformers 5's {@code Phi3Config} do (a {@code phi3} config without
 * it gets Phi3Config's default, 4096). transformers 5.17's {@code LlamaConfig} silently drops a
 * top-level key it does not declare, so a Llama-typed config carrying one would load there with
 * L0 = {@code max_position_embeddings}; a config that writes the key means it, so it is kept.
 */
public final class HfRopeConfig {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** Phi3Config's default for its top-level original_max_position_embeddings. */
  static final int PHI3_ORIGINAL_MAX_POSITION_EMBEDDINGS = 4096;

  private HfRopeConfig() {}

  /** The rope of a model's config.json; head_dim from {@code head_dim} or hidden_size / num_attention_heads. */
  public static Rope parse(JsonNode config) {
    return parse(config, headDim(config));
  }

  /** The rope of a model's config.json for a model whose rotary dimension is {@code headDim}. */
  public static Rope parse(JsonNode config, int headDim) {
    RopeConfig rope = toRopeConfig(config);
    String where = ropeDictName(config);
    try {
      return Ropes.create(rope, headDim, rope.ropeTheta(), maxPositionEmbeddings(config));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix(where, e.getMessage()), e);
    }
  }

  /** The rotary dimension: {@code head_dim} when set, else {@code hidden_size / num_attention_heads}. */
  public static int headDim(JsonNode config) {
    JsonNode headDim = config.get("head_dim");
    if (headDim != null && !headDim.isNull()) {
      return intValue(headDim, "head_dim");
    }
    int hidden = intValue(required(config, "hidden_size", "(needed for head_dim when config.json has none)"), "hidden_size");
    int heads = intValue(required(config, "num_attention_heads", "(needed for head_dim when config.json has none)"),
        "num_attention_heads");
    if (heads < 1 || hidden % heads != 0) {
      throw new IllegalArgumentException("hidden_size: must be a multiple of num_attention_heads (" + heads + "), got " + hidden);
    }
    return hidden / heads;
  }

  public static int maxPositionEmbeddings(JsonNode config) {
    return intValue(required(config, "max_position_embeddings", ""), "max_position_embeddings");
  }

  /**
   * The rope keys of a config.json as a {@link RopeConfig}, with {@code rope_theta} and (for
   * yarn, longrope, llama3) {@code original_max_position_embeddings} resolved.
   */
  public static RopeConfig toRopeConfig(JsonNode config) {
    if (config == null || !config.isObject()) {
      throw new IllegalArgumentException("config.json: must be a JSON object");
    }
    String where = ropeDictName(config);
    JsonNode dict = where == null ? JSON.objectNode() : config.get(where);
    if (!dict.isObject()) {
      throw new IllegalArgumentException(where + ": must be an object, got " + dict.getNodeType());
    }
    if (!dict.has("rope_type") && !dict.has("type") && dict.size() > 0 && allObjects(dict)) {
      throw new IllegalArgumentException(where + ": per-layer rope parameters (one dict per layer type) are not supported");
    }
    String type = text(dict, where, "rope_type");
    if (type == null) {
      type = text(dict, where, "type");
    }
    if (type == null) {
      type = "default";
    }
    if (type.equals("su") || (type.equals("yarn") && "phi3".equals(textOrNull(config.get("model_type"))))) {
      type = "longrope"; // Phi-3's backward-compatible names
    }
    if (!Rope.TYPES.contains(type) || type.equals("ntk") || type.equals("yarn_pose")) {
      throw new IllegalArgumentException(where + ".rope_type: '" + type + "' is not a Hugging Face rope type this project"
          + " reads; allowed: default, linear, dynamic, yarn, longrope, llama3");
    }
    Double partial = number(dict, where, "partial_rotary_factor");
    if (partial == null) {
      partial = number(config, null, "partial_rotary_factor");
    }
    if (partial != null && partial != 1.0) {
      throw new IllegalArgumentException("partial_rotary_factor: only 1.0 (rotate the whole head) is supported, got " + partial);
    }
    Double theta = number(dict, where, "rope_theta");
    if (theta == null) {
      theta = number(config, null, "rope_theta");
    }
    if (theta == null) {
      theta = Ropes.DEFAULT_THETA;
    }
    List<String> keys = RopeConfig.KEYS_BY_TYPE.get(type);
    Integer originalMax = keys.contains("original_max_position_embeddings")
        ? integer(dict, where, "original_max_position_embeddings") : null;
    if (keys.contains("original_max_position_embeddings")) {
      if (config.hasNonNull("original_max_position_embeddings")) {
        originalMax = integer(config, null, "original_max_position_embeddings"); // Phi-3 style: the top level wins
      } else if ("phi3".equals(textOrNull(config.get("model_type")))) {
        originalMax = PHI3_ORIGINAL_MAX_POSITION_EMBEDDINGS;
      }
    }
    RopeConfig.Builder b = RopeConfig.builder(type).ropeTheta(theta).originalMaxPositionEmbeddings(originalMax);
    try {
      for (String key : keys) {
        switch (key) {
          case "factor" -> b.factor(number(dict, where, key));
          case "beta_fast" -> b.betaFast(number(dict, where, key));
          case "beta_slow" -> b.betaSlow(number(dict, where, key));
          case "mscale" -> b.mscale(number(dict, where, key));
          case "mscale_all_dim" -> b.mscaleAllDim(number(dict, where, key));
          case "attention_factor" -> b.attentionFactor(number(dict, where, key));
          case "truncate" -> b.truncate(bool(dict, where, key));
          case "short_factor" -> b.shortFactor(numbers(dict, where, key));
          case "long_factor" -> b.longFactor(numbers(dict, where, key));
          case "low_freq_factor" -> b.lowFreqFactor(number(dict, where, key));
          case "high_freq_factor" -> b.highFreqFactor(number(dict, where, key));
          default -> { } // rope_theta and original_max_position_embeddings are resolved above
        }
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix(where, e.getMessage()), e);
    }
  }

  /**
   * The variant a Hugging Face config can hold with the same frequencies: {@code ntk} becomes a
   * default rope with base {@code b·s^(d/(d−2))} (identical values), {@code yarn_pose} a longrope
   * whose short and long factors are both its wavelength scales with its attention factor made
   * explicit (equal to float32 rounding); the others are returned as they are.
   *
   * @throws IllegalArgumentException for longrope with start tokens, which transformers cannot express
   */
  public static Rope huggingFaceEquivalent(Rope rope) {
    if (rope instanceof NtkRope ntk) {
      return new DefaultRope(ntk.headDim(), ntk.scaledBase(), ntk.maxPositionEmbeddings());
    }
    if (rope instanceof YarnPoseRope pose) {
      List<Double> lambda = new ArrayList<>();
      for (float v : pose.wavelengthScales()) {
        lambda.add((double) v);
      }
      return new LongRope(pose.headDim(), pose.ropeTheta(), pose.maxPositionEmbeddings(), lambda, lambda,
          pose.factor(), pose.originalMaxPositionEmbeddings(), pose.resolvedAttentionFactor(), 0);
    }
    if (rope instanceof LongRope lr && lr.startTokens() > 0) {
      throw new IllegalArgumentException("start_tokens: transformers' longrope has no start tokens, so a rope with "
          + "start_tokens = " + lr.startTokens() + " cannot be written to config.json; allowed: 0");
    }
    return rope;
  }

  /**
   * Writes {@code rope} in transformers 5 form: {@code rope_parameters} with {@code rope_type},
   * {@code rope_theta} and every key of the variant; removes {@code rope_scaling}, the top-level
   * {@code rope_theta} and a top-level {@code original_max_position_embeddings} (which would
   * override the dict's); sets {@code max_position_embeddings} to the rope's. Other keys are left.
   */
  public static void writeV5(Rope rope, ObjectNode config) {
    Rope hf = huggingFaceEquivalent(rope);
    ObjectNode params = JSON.objectNode();
    for (Map.Entry<String, Object> e : hf.toConfig().keys().entrySet()) {
      params.set(e.getKey(), toJson(e.getValue()));
    }
    config.remove("rope_scaling");
    config.remove("rope_theta");
    config.remove("original_max_position_embeddings");
    config.put("max_position_embeddings", hf.maxPositionEmbeddings());
    config.set("rope_parameters", params);
  }

  /**
   * Writes {@code rope} in transformers 4 form: top-level {@code rope_theta} and
   * {@code rope_scaling} (null for the default rope) carrying both {@code rope_type} and its
   * older alias {@code type}; removes {@code rope_parameters}; sets
   * {@code max_position_embeddings} to the rope's. Longrope is written Phi-3 style (top-level
   * {@code original_max_position_embeddings}, explicit {@code attention_factor}) because that is
   * the form every 4.x release reads the same way.
   */
  public static void writeV4(Rope rope, ObjectNode config) {
    Rope hf = huggingFaceEquivalent(rope);
    config.remove("rope_parameters");
    config.put("rope_theta", hf.ropeTheta());
    config.put("max_position_embeddings", hf.maxPositionEmbeddings());
    if (hf instanceof DefaultRope) {
      config.putNull("rope_scaling");
      return;
    }
    ObjectNode scaling = JSON.objectNode();
    for (Map.Entry<String, Object> e : hf.toConfig().keys().entrySet()) {
      if (!e.getKey().equals("rope_theta")) {
        scaling.set(e.getKey(), toJson(e.getValue()));
      }
    }
    scaling.put("type", hf.ropeType());
    if (hf instanceof LongRope lr) {
      scaling.put("attention_factor", lr.resolvedAttentionFactor());
      config.put("original_max_position_embeddings", lr.originalMaxPositionEmbeddings());
    } else {
      config.remove("original_max_position_embeddings");
    }
    config.set("rope_scaling", scaling);
  }

  // ---- reading helpers ----

  /** Which dict holds the rope: {@code rope_scaling} when set and non-empty, else {@code rope_parameters}, else none. */
  private static String ropeDictName(JsonNode config) {
    JsonNode scaling = config.get("rope_scaling");
    if (scaling != null && !scaling.isNull() && !(scaling.isObject() && scaling.isEmpty())) {
      return "rope_scaling";
    }
    JsonNode params = config.get("rope_parameters");
    if (params != null && !params.isNull() && !(params.isObject() && params.isEmpty())) {
      return "rope_parameters";
    }
    return null;
  }

  private static String prefix(String where, String message) {
    if (where == null || message.startsWith(where + ".") || message.startsWith("rope_theta")
        || message.startsWith("head_dim") || message.startsWith("max_position_embeddings")) {
      return message;
    }
    return where + "." + message;
  }

  private static boolean allObjects(JsonNode dict) {
    for (Iterator<JsonNode> it = dict.elements(); it.hasNext(); ) {
      JsonNode v = it.next();
      if (!v.isObject() && !v.isNull()) {
        return false;
      }
    }
    return true;
  }

  private static String name(String where, String key) {
    return where == null ? key : where + "." + key;
  }

  private static JsonNode required(JsonNode config, String key, String why) {
    JsonNode v = config.get(key);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException(key + ": missing from config.json " + why);
    }
    return v;
  }

  private static int intValue(JsonNode v, String key) {
    if (!v.isNumber() || v.asDouble() != Math.rint(v.asDouble()) || Math.abs(v.asDouble()) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + ": expected an integer, got " + v);
    }
    return (int) v.asDouble();
  }

  private static String textOrNull(JsonNode v) {
    return v == null || v.isNull() ? null : v.asText();
  }

  private static String text(JsonNode dict, String where, String key) {
    JsonNode v = dict.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(name(where, key) + ": expected a string, got " + v);
    }
    return v.asText();
  }

  private static Double number(JsonNode dict, String where, String key) {
    JsonNode v = dict.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException(name(where, key) + ": expected a number, got " + v);
    }
    return v.asDouble();
  }

  private static Integer integer(JsonNode dict, String where, String key) {
    JsonNode v = dict.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    return intValue(v, name(where, key));
  }

  private static Boolean bool(JsonNode dict, String where, String key) {
    JsonNode v = dict.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw new IllegalArgumentException(name(where, key) + ": expected true or false, got " + v);
    }
    return v.asBoolean();
  }

  private static List<Double> numbers(JsonNode dict, String where, String key) {
    JsonNode v = dict.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw new IllegalArgumentException(name(where, key) + ": expected a list of numbers, got " + v.getNodeType());
    }
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isNumber()) {
        throw new IllegalArgumentException(name(where, key) + "[" + i + "]: expected a number, got " + v.get(i));
      }
      out.add(v.get(i).asDouble());
    }
    return out;
  }

  private static JsonNode toJson(Object value) {
    if (value instanceof String s) {
      return JSON.textNode(s);
    }
    if (value instanceof Integer i) {
      return JSON.numberNode(i);
    }
    if (value instanceof Double d) {
      return JSON.numberNode(d);
    }
    if (value instanceof Boolean b) {
      return JSON.booleanNode(b);
    }
    if (value instanceof List<?> list) {
      ArrayNode array = JSON.arrayNode();
      for (Object o : list) {
        array.add(((Number) o).doubleValue());
      }
      return array;
    }
    throw new IllegalStateException("no JSON form for " + value);
  }
}
