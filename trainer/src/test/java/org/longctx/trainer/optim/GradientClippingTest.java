package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.longctx.trainer.optim.OptimTestSupport.assertClose;
import static org.longctx.trainer.optim.OptimTestSupport.backward;
import static org.longctx.trainer.optim.OptimTestSupport.floatMap;
import static org.longctx.trainer.optim.OptimTestSupport.fixture;
import static org.longctx.trainer.optim.OptimTestSupport.longs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Global-norm clipping against torch.nn.utils.clip_grad_norm_. */
class GradientClippingTest {

  @Test
  void matchesClipGradNorm() {
    for (JsonNode c : fixture().get("clip_grad_norm")) {
      String name = c.get("name").asText();
      try (NDManager manager = NDManager.newBaseManager()) {
        List<NamedParameter> params = zeros(manager, c);
        backward(params, floatMap(c.get("grads")));
        try (Gradients grads = Gradients.read(params, 1.0)) {
          double norm = GradientClipping.clipGradNorm(grads, c.get("max_norm").asDouble());
          assertClose(c.get("total_norm").asDouble(), norm, name + " total norm");
          Map<String, float[]> clipped = floatMap(c.get("clipped"));
          for (int i = 0; i < params.size(); i++) {
            assertClose(clipped.get(params.get(i).name()), grads.get(i).toFloatArray(), name + " " + params.get(i).name());
          }
        }
      }
    }
  }

  @Test
  void nonFiniteNormIsReportedAndGradientsAreLeftAlone() {
    JsonNode c = fixture().get("clip_grad_norm").get(0);
    for (float poison : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      try (NDManager manager = NDManager.newBaseManager()) {
        List<NamedParameter> params = zeros(manager, c);
        Map<String, float[]> g = floatMap(c.get("grads"));
        String first = params.get(0).name();
        g.get(first)[3] = poison;
        backward(params, g);
        try (Gradients grads = Gradients.read(params, 1.0)) {
          double norm = GradientClipping.clipGradNorm(grads, 1e-3);
          assertTrue(Float.isNaN(poison) ? Double.isNaN(norm) : norm == Double.POSITIVE_INFINITY, "norm " + norm);
          assertArrayEquals(g.get(first), grads.get(0).toFloatArray(), "untouched");
        }
      }
    }
  }

  @Test
  void infiniteMaxNormOnlyMeasures() {
    JsonNode c = fixture().get("clip_grad_norm").get(0);  // a norm far above 1
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = zeros(manager, c);
      Map<String, float[]> g = floatMap(c.get("grads"));
      backward(params, g);
      try (Gradients grads = Gradients.read(params, 1.0)) {
        double norm = GradientClipping.clipGradNorm(grads, Double.POSITIVE_INFINITY);
        assertClose(c.get("total_norm").asDouble(), norm, "norm");
        assertFalse(GradientClipping.clipToNorm(grads, norm, norm * 2));
        assertArrayEquals(g.get(params.get(0).name()), grads.get(0).toFloatArray());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> GradientClipping.clipGradNorm(null, 0));
  }

  private static List<NamedParameter> zeros(NDManager manager, JsonNode c) {
    List<NamedParameter> params = new ArrayList<>();
    for (var e : c.get("shapes").properties()) {
      NDArray a = manager.zeros(new Shape(longs(e.getValue())));
      a.setRequiresGradient(true);
      params.add(new NamedParameter(e.getKey(), a));
    }
    assertEquals(c.get("grads").size(), params.size());
    return params;
  }
}
