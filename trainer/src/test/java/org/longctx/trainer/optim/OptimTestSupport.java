package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Fixture access and small helpers shared by the optimizer tests. */
@SuppressWarnings("try")  // NDScope closes temporaries without being referenced
final class OptimTestSupport {

  /** "Compare within 1e-6 relative (float32)"; the absolute floor covers values near zero. */
  static final double REL_TOL = 1e-6;
  static final double ABS_TOL = 1e-8;

  private static JsonNode fixture;

  private OptimTestSupport() {
  }

  /** golden/optim/optim_fixtures.json, written by tools/reference/optim_fixtures.py. */
  static synchronized JsonNode fixture() {
    if (fixture == null) {
      try (InputStream in = OptimTestSupport.class.getResourceAsStream("/golden/optim/optim_fixtures.json")) {
        if (in == null) {
          throw new IllegalStateException("golden/optim/optim_fixtures.json is not on the test classpath");
        }
        fixture = new ObjectMapper().readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return fixture;
  }

  /** The AdamW case of that name. */
  static JsonNode adamwCase(String name) {
    for (JsonNode c : fixture().get("adamw")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no AdamW fixture case " + name);
  }

  static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).asDouble();  // the fixture holds float32 values printed as doubles
    }
    return out;
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  /** name -> values of a JSON object of arrays, in its order. */
  static Map<String, float[]> floatMap(JsonNode object) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      out.put(e.getKey(), floats(e.getValue()));
    }
    return out;
  }

  /** Parameters with the case's initial values, float32 or float16, requiring gradients. */
  static List<NamedParameter> parameters(NDManager manager, JsonNode c, DataType type) {
    List<NamedParameter> out = new ArrayList<>();
    Map<String, float[]> init = floatMap(c.get("init"));
    for (Map.Entry<String, float[]> e : init.entrySet()) {
      Shape shape = new Shape(longs(c.get("shapes").get(e.getKey())));
      NDArray a = manager.create(e.getValue(), shape).toType(type, false);
      a.setRequiresGradient(true);
      out.add(new NamedParameter(e.getKey(), a));
    }
    return out;
  }

  /**
   * One backward pass of {@code loss = sum_p sum(p * G_p)}, whose gradient is exactly
   * {@code G_p}, multiplied as the scaler says ({@code scale / microBatches}).
   */
  static void backward(List<NamedParameter> params, Map<String, float[]> grads, LossScaler scaler, int microBatches) {
    try (NDScope scope = new NDScope();
        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = null;
      for (NamedParameter p : params) {
        NDArray arr = p.array();
        NDArray g = arr.getManager().create(grads.get(p.name()), arr.getShape()).toType(arr.getDataType(), false);
        NDArray term = arr.mul(g).sum();
        loss = loss == null ? term : loss.add(term);
      }
      gc.backward(scaler.scaleLoss(loss, microBatches));
    }
  }

  /** Plain float32 backward of the gradients {@code grads}. */
  static void backward(List<NamedParameter> params, Map<String, float[]> grads) {
    backward(params, grads, LossScaler.disabled(), 1);
  }

  /** The parameter's values as float32. */
  static float[] values(NamedParameter p) {
    try (NDScope scope = new NDScope()) {
      return p.array().toType(DataType.FLOAT32, true).toFloatArray();
    }
  }

  /** The parameter's accumulated gradient as float32. */
  static float[] gradient(NamedParameter p) {
    try (NDScope scope = new NDScope()) {
      return p.array().getGradient().toType(DataType.FLOAT32, true).toFloatArray();
    }
  }

  static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      double a = actual[i];
      double tol = Math.max(REL_TOL * Math.abs(e), ABS_TOL);
      assertTrue(Math.abs(a - e) <= tol, what + "[" + i + "]: expected " + e + ", got " + a + " (diff "
          + Math.abs(a - e) + ", tolerance " + tol + ")");
    }
  }

  static void assertClose(double expected, double actual, String what) {
    double tol = Math.max(REL_TOL * Math.abs(expected), ABS_TOL);
    assertTrue(Math.abs(actual - expected) <= tol, what + ": expected " + expected + ", got " + actual);
  }

  /** AdamW hyper-parameters of a fixture case. */
  static AdamWConfig config(JsonNode c) {
    return new AdamWConfig(c.get("betas").get(0).asDouble(), c.get("betas").get(1).asDouble(),
        c.get("eps").asDouble(), c.get("weight_decay").asDouble());
  }
}
