package org.longctx.trainer.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.InferenceSettings;

/**
 * A method ready to ship to an executor: its name, the model's fully qualified location (an
 * executor of a cluster has another working directory), and the extension, as plain values.
 * The rope override travels as its YAML keys in JSON and SelfExtend as three numbers (neither
 * {@link RopeConfig} nor {@link SelfExtend} is serializable).
 *
 * @param name the method's name
 * @param model the model's location, a URI such as {@code file:/abs/path} or {@code hdfs://…}
 * @param ropeJson the rope override as JSON of its snake_case keys, or null to keep the model's
 * @param groupSize SelfExtend's group size, 0 for plain attention
 * @param windowSize SelfExtend's window size (0 when off)
 * @param scaleBase SelfExtend's query-scaling base (0 = off)
 * @param fotJson the memory layers to run with ({@code fot:} keys) as JSON, or null for the model's own
 */
public record MethodSpec(String name, String model, String ropeJson, int groupSize, int windowSize, double scaleBase,
    String fotJson) implements Serializable {

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** A method with the model's own memory layers (if any). */
  public MethodSpec(String name, String model, String ropeJson, int groupSize, int windowSize, double scaleBase) {
    this(name, model, ropeJson, groupSize, windowSize, scaleBase, null);
  }

  /** {@code method} with its model resolved to {@code modelLocation}. */
  public static MethodSpec of(EvalConfig.Method method, String modelLocation) {
    SelfExtend se = method.selfExtend() == null ? null : method.selfExtend().settings();
    return new MethodSpec(method.name(), modelLocation, method.rope() == null ? null : toJson(method.rope()),
        se == null ? 0 : se.groupSize(), se == null ? 0 : se.windowSize(), se == null ? 0 : se.scaleBase(),
        method.fot() == null ? null : toJson(method.fot()));
  }

  /** A method without SelfExtend. */
  public static MethodSpec of(String name, String modelLocation, RopeConfig rope) {
    return new MethodSpec(name, modelLocation, rope == null ? null : toJson(rope), 0, 0, 0, null);
  }

  /** SelfExtend's settings, or null for plain attention. */
  public SelfExtend selfExtend() {
    return groupSize == 0 ? null : new SelfExtend(groupSize, windowSize, scaleBase);
  }

  /**
   * Relative cost of an item under this method, for balancing tasks: SelfExtend computes two
   * score maps (neighbour and grouped attention) where plain attention computes one.
   */
  public double costFactor() {
    return groupSize > 0 ? 2 : 1;
  }

  /** What the model is run with: the rope override, SelfExtend and memory layers. */
  public InferenceSettings settings() {
    return new InferenceSettings(rope(), selfExtend(), fot() == null ? null : fot().memory());
  }

  /** The {@code fot:} keys, or null for the model's own memory layers. */
  public EvalConfig.FotOptions fot() {
    if (fotJson == null) {
      return null;
    }
    try {
      return JSON.readValue(fotJson, EvalConfig.FotOptions.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("fot of method " + name + ": " + e.getOriginalMessage(), e);
    }
  }

  /** The rope override, or null. */
  public RopeConfig rope() {
    if (ropeJson == null) {
      return null;
    }
    try {
      return JSON.readValue(ropeJson, RopeConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("rope of method " + name + ": " + e.getOriginalMessage(), e);
    }
  }

  /** The rope override's keys (snake_case), empty when the model's own rope is kept. */
  public Map<String, Object> ropeKeys() {
    RopeConfig rope = rope();
    return rope == null ? Map.of() : new LinkedHashMap<>(rope.keys());
  }

  private static String toJson(RopeConfig rope) {
    try {
      return JSON.writeValueAsString(rope.keys());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String toJson(EvalConfig.FotOptions fot) {
    try {
      return JSON.writeValueAsString(fot);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
